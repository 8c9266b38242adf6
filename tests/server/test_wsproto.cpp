// RFC 6455 framing without sockets: accept key, server headers, and the client-frame reader.
#include <catch2/catch.hpp>

#include <cstring>

#include "src/server/frames.hpp"
#include "src/server/wsproto.hpp"
#include "tests/e2e/harness.hpp"

using namespace labeler::server;
using kind = ws::event::kind;

namespace {

// A masked client frame (what a browser or any RFC 6455 client sends).
std::string client_frame(std::uint8_t first_byte, std::string_view payload,
                         std::uint32_t mask_key = 0x37fa213d, int force_len_bytes = 0) {
    std::string out;
    out.push_back(char(first_byte));
    std::size_t n = payload.size();
    if ((n < 126 && force_len_bytes == 0) || force_len_bytes == 1) {
        out.push_back(char(0x80 | n));
    } else if ((n <= 0xFFFF && force_len_bytes == 0) || force_len_bytes == 2) {
        out.push_back(char(0x80 | 126));
        out.push_back(char(n >> 8));
        out.push_back(char(n));
    } else {
        out.push_back(char(0x80 | 127));
        for (int i = 0; i < 8; ++i) out.push_back(char(std::uint64_t(n) >> (56 - 8 * i)));
    }
    std::uint8_t mask[4] = {std::uint8_t(mask_key >> 24), std::uint8_t(mask_key >> 16),
                            std::uint8_t(mask_key >> 8), std::uint8_t(mask_key)};
    out.append(reinterpret_cast<const char*>(mask), 4);
    for (std::size_t i = 0; i < n; ++i) out.push_back(char(payload[i] ^ mask[i % 4]));
    return out;
}

std::span<const std::uint8_t> bytes(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::vector<ws::event> feed_all(ws::client_reader& r, const std::string& in) {
    std::vector<ws::event> ev;
    std::size_t used = r.feed(bytes(in), ev);
    CHECK((used == in.size() || r.done()));
    return ev;
}

}  // namespace

TEST_CASE("accept key: the RFC 6455 section 1.3 example") {
    CHECK(ws::accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    CHECK(ws::valid_client_key("dGhlIHNhbXBsZSBub25jZQ=="));
    CHECK_FALSE(ws::valid_client_key(""));
    CHECK_FALSE(ws::valid_client_key("dGhlIHNhbXBsZSBub25jZQ"));    // unpadded
    CHECK_FALSE(ws::valid_client_key("dGhlIHNhbXBsZSBub25jZQ=!"));
    CHECK_FALSE(ws::valid_client_key("dGhlIHNhbXBsZSBub25jZSE="));  // 17 bytes
}

TEST_CASE("server headers: 7-bit, 16-bit and 64-bit lengths, FIN set, never masked") {
    std::string out;
    ws::append_header(out, ws::opcode::binary, 125);
    CHECK(out == std::string("\x82\x7d", 2));
    out.clear();
    ws::append_header(out, ws::opcode::binary, 126);
    CHECK(out == std::string("\x82\x7e\x00\x7e", 4));
    out.clear();
    ws::append_header(out, ws::opcode::binary, 65535);
    CHECK(out == std::string("\x82\x7e\xff\xff", 4));
    out.clear();
    ws::append_header(out, ws::opcode::close, 65536);
    CHECK(out == std::string("\x88\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10));
    CHECK(ws::close_payload(1008, "FutureCursor") == std::string("\x03\xf0" "FutureCursor", 14));
    CHECK(ws::close_payload(1000, std::string(200, 'x')).size() == 125);
}

TEST_CASE("a wire batch is the frames back to back, each a header followed by the payload") {
    std::vector<labeler::storage::shared_entry> entries;
    for (std::uint64_t seq : {23ull, 24ull, 255ull, 256ull, 65536ull, 1ull << 32})
        entries.push_back(std::make_shared<labeler::storage::log_entry>(
            labeler::storage::log_entry{seq, std::string(seq == 256 ? 200 : 1, '\xa0')}));
    entries.insert(entries.begin() + 2, nullptr);  // skipped
    auto b = make_wire_batch(entries);
    REQUIRE(b->size() == 6);
    std::string expect;
    std::size_t i = 0;
    for (auto& e : entries) {
        if (!e) continue;
        CHECK(b->offsets[i++] == expect.size());
        auto payload = encode_labels_frame(*e);
        ws::append_header(expect, ws::opcode::binary, payload.size());
        expect += payload;
    }
    CHECK(b->wire == expect);
    CHECK(b->seqs == std::vector<std::uint64_t>{23, 24, 255, 256, 65536, 1ull << 32});
}

TEST_CASE("reader: messages, pings with payload, pongs and a close with code and reason") {
    ws::client_reader r(1024);
    std::string in = client_frame(0x82, "hello") + client_frame(0x89, "ping-data") +
                     client_frame(0x8A, "") + client_frame(0x81, "") +
                     client_frame(0x88, std::string("\x03\xe8" "bye", 5));
    auto ev = feed_all(r, in);
    REQUIRE(ev.size() == 5);
    CHECK(ev[0].k == kind::message);
    CHECK(ev[1].k == kind::ping);
    CHECK(ev[1].payload == "ping-data");
    CHECK(ev[2].k == kind::pong);
    CHECK(ev[3].k == kind::message);
    CHECK(ev[4].k == kind::close);
    CHECK(ev[4].code == 1000);
    CHECK(ev[4].payload == "bye");
    CHECK(r.done());
}

TEST_CASE("reader: byte-by-byte input gives the same events as one buffer") {
    std::string in = client_frame(0x02, std::string(300, 'a')) +  // fragmented binary...
                     client_frame(0x89, "mid") +                   // ...a ping in between...
                     client_frame(0x80, std::string(70000, 'b')) +  // ...and the final fragment
                     client_frame(0x88, "");
    ws::client_reader whole(100'000);
    auto expect = feed_all(whole, in);
    REQUIRE(expect.size() == 3);
    CHECK(expect[0].k == kind::ping);
    CHECK(expect[1].k == kind::message);
    CHECK(expect[2].k == kind::close);
    CHECK(expect[2].code == 1005);

    ws::client_reader r(100'000);
    std::vector<ws::event> got;
    std::string pending;
    for (char c : in) {
        pending.push_back(c);
        pending.erase(0, r.feed(bytes(pending), got));
    }
    CHECK(pending.empty());
    REQUIRE(got.size() == expect.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        CHECK(got[i].k == expect[i].k);
        CHECK(got[i].payload == expect[i].payload);
    }
}

TEST_CASE("reader: protocol violations are errors with close code 1002 or 1009") {
    auto first_error = [](const std::string& in, std::size_t max = 1024) {
        ws::client_reader r(max);
        std::vector<ws::event> ev;
        r.feed(bytes(in), ev);
        REQUIRE_FALSE(ev.empty());
        CHECK(ev.back().k == kind::error);
        CHECK(r.done());
        return ev.back();
    };
    std::string unmasked("\x82\x02hi", 4);
    CHECK(first_error(unmasked).code == 1002);
    CHECK(first_error(client_frame(0xC2, "x")).code == 1002);        // RSV1
    CHECK(first_error(client_frame(0x83, "x")).code == 1002);        // reserved data opcode
    CHECK(first_error(client_frame(0x8B, "x")).code == 1002);        // reserved control opcode
    CHECK(first_error(client_frame(0x09, "x")).code == 1002);        // fragmented ping
    CHECK(first_error(client_frame(0x89, std::string(126, 'p'))).code == 1002);
    CHECK(first_error(client_frame(0x80, "x")).code == 1002);        // continuation first
    CHECK(first_error(client_frame(0x02, "a") + client_frame(0x82, "b")).code == 1002);
    CHECK(first_error(client_frame(0x82, "x", 1, 2)).code == 1002);  // non-minimal length
    CHECK(first_error(client_frame(0x88, "\x03")).code == 1002);     // 1-byte close
    CHECK(first_error(client_frame(0x88, std::string("\x03\xed", 2))).code == 1002);  // 1005
    auto big = first_error(client_frame(0x82, std::string(2000, 'z')));
    CHECK(big.code == 1009);
    // the limit applies across fragments
    CHECK(first_error(client_frame(0x02, std::string(600, 'a')) +
                      client_frame(0x80, std::string(600, 'a')))
              .code == 1009);
}

TEST_CASE("reader: nothing is consumed after a close") {
    ws::client_reader r(1024);
    std::string in = client_frame(0x88, "") + client_frame(0x89, "late");
    std::vector<ws::event> ev;
    auto used = r.feed(bytes(in), ev);
    CHECK(used == client_frame(0x88, "").size());
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].k == kind::close);
}
