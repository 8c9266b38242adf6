#include <catch2/catch.hpp>

#include "src/atproto/label.hpp"
#include "src/server/frames.hpp"
#include "tests/e2e/harness.hpp"

using namespace labeler;
using namespace labeler::server;

TEST_CASE("labels frame: canonical header, seq before labels, stored CBOR verbatim") {
    atproto::label l;
    l.src = "did:plc:src";
    l.uri = "did:plc:subject";
    l.val = "kyo";
    l.cts = "2026-01-01T00:00:00.000Z";
    l.sig = std::array<std::uint8_t, 64>{1, 2, 3};
    storage::log_entry e{300, atproto::encode_cbor(l)};
    auto bytes = encode_labels_frame(e);
    const std::string header("\xa2\x61\x74\x67\x23\x6c\x61\x62\x65\x6c\x73\x62\x6f\x70\x01", 15);
    REQUIRE(bytes.substr(0, 15) == header);
    // a2 63 'seq' 19 01 2c 66 'labels' 81 <label>
    const std::string body_head("\xa2\x63seq\x19\x01\x2c\x66labels\x81", 16);
    REQUIRE(bytes.substr(15, 16) == body_head);
    REQUIRE(bytes.substr(31) == e.cbor);

    auto f = e2e::decode_frame(bytes);
    REQUIRE(f.has_value());
    CHECK(f->op == 1);
    CHECK(f->t == "#labels");
    CHECK(f->seq == 300);
    REQUIRE(f->labels.size() == 1);
    CHECK(f->labels[0].uri == "did:plc:subject");
}

TEST_CASE("error frame: {op:-1} + {error, message}") {
    auto bytes = encode_error_frame("FutureCursor", "Cursor in the future.");
    REQUIRE(bytes.substr(0, 5) == std::string("\xa1\x62op\x20", 5));
    auto f = e2e::decode_frame(bytes);
    REQUIRE(f.has_value());
    CHECK(f->op == -1);
    CHECK(f->error == "FutureCursor");
    CHECK(f->message == "Cursor in the future.");
    auto bare = e2e::decode_frame(encode_error_frame("ConsumerTooSlow", ""));
    REQUIRE(bare.has_value());
    CHECK(bare->error == "ConsumerTooSlow");
    CHECK(bare->message.empty());
}

TEST_CASE("decode_frame rejects malformed frames") {
    CHECK_FALSE(e2e::decode_frame("").has_value());
    CHECK_FALSE(e2e::decode_frame(std::string("\xa2\x61t\x67#labels\x62op\x01", 15)).has_value());
    auto ok = encode_error_frame("X", "y");
    CHECK_FALSE(e2e::decode_frame(ok + std::string(1, '\0')).has_value());
}
