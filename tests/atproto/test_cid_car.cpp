#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "src/atproto/car.hpp"
#include "src/atproto/cbor.hpp"
#include "src/atproto/cid.hpp"
#include "src/atproto/varint.hpp"
#include "tests/atproto/test_util.hpp"

using namespace labeler::atproto;
using cbor::value;
using labeler::test::as_bytes;
using labeler::test::hex;
using labeler::test::slurp;

namespace {

std::vector<std::string> lines_of(const std::string& path) {
    std::vector<std::string> out;
    std::istringstream in(slurp(path));
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        out.push_back(line);
    }
    return out;
}

// A CAR built by hand: header {roots, version} + the given blocks.
std::string make_car(const std::vector<cid>& roots, const std::vector<std::string>& blocks,
                     std::int64_t version = 1) {
    std::vector<std::string> root_bins;
    std::vector<value> root_vals;
    for (const auto& r : roots) root_bins.push_back(r.binary());
    for (const auto& b : root_bins) root_vals.push_back(value::link(as_bytes(b)));
    const value kv[] = {value::text("roots"), value::array(root_vals), value::text("version"),
                        value::integer(version)};
    const std::string header = cbor::encode(value::map(kv));
    std::string car;
    put_uvarint(car, header.size());
    car += header;
    for (const auto& b : blocks) {
        const std::string id = cid::compute(as_bytes(b)).binary();
        put_uvarint(car, id.size() + b.size());
        car += id;
        car += b;
    }
    return car;
}

std::string block_of(std::string_view text) {
    const value kv[] = {value::text("text"), value::text(text)};
    return cbor::encode(value::map(kv));
}

}  // namespace

TEST_CASE("cid string <-> binary for a known dag-cbor CID", "[cid]") {
    const std::string s = "bafyreidljzibtzabdxitc4b7cmsbrvoe2oidqlgpbzqda7ldyzqlwh2do4";
    auto c = cid::parse(s);
    REQUIRE(c);
    CHECK(c->version() == 1);
    CHECK(c->codec() == codec_dag_cbor);
    CHECK(c->hash_code() == multihash_sha2_256);
    CHECK(c->digest().size() == 32);
    CHECK(c->bytes().size() == 36);
    CHECK(hex(c->bytes()).substr(0, 8) == "01711220");
    CHECK(c->to_string() == s);
    auto again = cid::from_binary(c->bytes());
    REQUIRE(again);
    CHECK(*again == *c);
    CHECK(std::hash<cid>{}(*again) == std::hash<cid>{}(*c));

    // sha256("") CID of the raw codec.
    const cid raw = cid::compute({}, codec_raw);
    CHECK(raw.to_string() == "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
    CHECK(raw.matches({}));
    CHECK_FALSE(raw.matches(as_bytes("x")));
    CHECK(raw != *c);
    CHECK((raw < *c || *c < raw));
}

TEST_CASE("cid parse_binary advances and rejects bad input", "[cid]") {
    const cid c = cid::compute(as_bytes("hello"));
    std::string buf = c.binary() + "tail";
    std::span<const std::uint8_t> in = as_bytes(buf);
    auto p = cid::parse_binary(in);
    REQUIRE(p);
    CHECK(*p == c);
    CHECK(in.size() == 4);

    auto bad = [](std::string bin, std::string_view needle) {
        std::span<const std::uint8_t> in = as_bytes(bin);
        auto r = cid::parse_binary(in);
        INFO(hex(bin));
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().message, Catch::Contains(std::string(needle)));
    };
    bad("\x12\x20" + std::string(32, 'a'), "CIDv0");
    bad(std::string("\x02\x71\x12\x20", 4) + std::string(32, 'a'), "unsupported version 2");
    bad(std::string("\x01\x71\x12\x20", 4) + std::string(31, 'a'), "truncated digest");
    bad(std::string("\x01\x71\x12\x10", 4) + std::string(16, 'a'), "sha2-256 digest length 16");
    bad(std::string("\x01\x71\x13\x41", 4) + std::string(65, 'a'), "digest length 65 exceeds");
    bad(std::string("\x01\xf1", 2), "codec varint: truncated");
    bad(std::string("\x01\x80\x00", 3), "non-minimal");
    bad("", "truncated");
    CHECK_FALSE(cid::from_binary(as_bytes(buf)));
}

TEST_CASE("cid string syntax fixtures", "[cid]") {
    const std::string dir = LABELER_SOURCE_DIR "/tests/atproto/data/";
    int parsed = 0;
    for (const auto& line : lines_of(dir + "cid_syntax_valid.txt")) {
        auto c = cid::parse(line);
        if (line[0] == 'b') {
            // base32 CIDv1: must parse and print back identically.
            INFO(line);
            REQUIRE(c);
            CHECK(c->to_string() == line);
            ++parsed;
        } else {
            CHECK_FALSE(c);  // other multibases are valid CIDs we do not accept
        }
    }
    CHECK(parsed == 2);
    for (const auto& line : lines_of(dir + "cid_syntax_invalid.txt")) {
        INFO(line);
        CHECK_FALSE(cid::parse(line));
    }
    auto v0 = cid::parse("QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR");
    REQUIRE_FALSE(v0);
    CHECK_THAT(v0.error().message, Catch::Contains("CIDv0"));
    auto upper = cid::parse("BAFYREIDLJZIBTZABDXITC4B7CMSBRVOE2OIDQLGPBZQDA7LDYZQLWH2DO4");
    REQUIRE_FALSE(upper);
    CHECK_THAT(upper.error().message, Catch::Contains("multibase prefix 'B'"));
    CHECK_FALSE(cid::parse("b"));
    CHECK_FALSE(cid::parse("bafyreidljzibtzabdxitc4b7cmsbrvoe2oidqlgpbzqda7ldyzqlwh2do"));
}

TEST_CASE("CAR: hand-built file parses, finds blocks, tolerates duplicates", "[car]") {
    const std::string a = block_of("a"), b = block_of("b");
    const cid ca = cid::compute(as_bytes(a)), cb = cid::compute(as_bytes(b));
    const std::string car = make_car({ca}, {b, a, b});
    auto f = parse_car(as_bytes(car));
    REQUIRE(f);
    REQUIRE(f->roots.size() == 1);
    CHECK(f->roots[0] == ca);
    CHECK(f->blocks.size() == 3);
    const car_block* fa = f->find(ca);
    REQUIRE(fa);
    CHECK(std::string_view(reinterpret_cast<const char*>(fa->data.data()), fa->data.size()) == a);
    // zero-copy: the view points into the input buffer
    CHECK(fa->data.data() >= as_bytes(car).data());
    CHECK(fa->data.data() < as_bytes(car).data() + car.size());
    CHECK(f->find(cb.bytes()));
    CHECK_FALSE(f->find(cid::compute(as_bytes("nope"))));

    // No roots, no blocks.
    auto empty = parse_car(as_bytes(make_car({}, {})));
    REQUIRE(empty);
    CHECK(empty->roots.empty());
    CHECK(empty->blocks.empty());
}

TEST_CASE("CAR: rejects bad hashes, truncation, bad varints and bad headers", "[car]") {
    const std::string a = block_of("a");
    const cid ca = cid::compute(as_bytes(a));
    const std::string good = make_car({ca}, {a});

    auto bad = [](std::string car, std::string_view needle, bool verify = true) {
        auto r = parse_car(as_bytes(car), verify);
        INFO(hex(car));
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().message, Catch::Contains(std::string(needle)));
    };
    std::string flipped = good;
    flipped.back() ^= 1;
    bad(flipped, "does not match its hash");
    CHECK(parse_car(as_bytes(flipped), false));  // structure is fine without verification
    // Every cut is rejected except the one right after the header (a CAR without blocks).
    const std::size_t header_end = 1 + std::uint8_t(good[0]);
    for (std::size_t cut = 1; cut < good.size(); ++cut) {
        INFO("cut at " << cut);
        CHECK(bool(parse_car(as_bytes(good.substr(0, cut)), false)) == (cut == header_end));
    }
    bad(good.substr(0, good.size() - 1), "truncated section");
    bad("", "header length varint: truncated");
    bad(std::string("\x80\x00", 2), "non-minimal");
    bad(std::string("\x00", 1), "empty header");
    bad(make_car({ca}, {a}, 2), "unsupported version 2");
    bad(good + std::string("\x00", 1), "empty section");
    bad(good + std::string("\x05\x01\x71\x12\x20\x00", 6), "truncated digest");
    bad(good + "\x80", "length varint: truncated");
    // A section whose CID uses another hash cannot be verified.
    std::string other = good;
    const std::string id = std::string("\x01\x55\x00\x01", 4) + "z";  // identity multihash
    put_uvarint(other, id.size() + 1);
    other += id + "z";
    bad(other, "unsupported hash 0x0");
    CHECK(parse_car(as_bytes(other), false));
    // Header not a map / missing fields / bad root.
    auto with_header = [](const std::string& h) {
        std::string car;
        put_uvarint(car, h.size());
        return car + h;
    };
    bad(with_header(std::string("\x80", 1)), "header is not a map");
    bad(with_header("\xa1\x67version\x01"), "no 'roots' array");
    bad(with_header("\xa1\x65roots\x80"), "no integer 'version'");
    bad(with_header("\xa2\x65roots\x81\x01\x67version\x01"), "root is not a CID link");
    bad(with_header("\xa3\x61x\x01\x65roots\x80\x67version\x01"), "keys other than");
    bad(with_header("\xa2\x67version\x01\x65roots\x80"), "out of order");
}

// ---------------------------------------------------------------------------------------------
// The real firehose capture (134 frames) against the independent decoding in decoded.json.

TEST_CASE("firehose capture: every frame, CAR and op CID matches decoded.json", "[firehose]") {
    const std::string dir = LABELER_FIXTURE_DIR "/pds-firehose/";
    const std::string bin = slurp(dir + "firehose.bin");
    const std::string json = slurp(dir + "decoded.json");
    REQUIRE_FALSE(bin.empty());
    REQUIRE_FALSE(json.empty());
    const boost::json::value truth = boost::json::parse(json);
    const auto& events = truth.at("events").as_array();

    cbor::decoder dec;
    cbor::decoder rec_dec;
    std::size_t pos = 0, frames = 0, commits = 0, ops_total = 0, ops_found = 0, follows = 0;
    std::int64_t last_seq = 0;
    while (pos < bin.size()) {
        REQUIRE(bin.size() - pos >= 4);
        const auto* p = reinterpret_cast<const std::uint8_t*>(bin.data() + pos);
        const std::size_t len =
            std::size_t(p[0]) << 24 | std::size_t(p[1]) << 16 | std::size_t(p[2]) << 8 | p[3];
        REQUIRE(bin.size() - pos - 4 >= len);
        const std::string_view frame_bytes(bin.data() + pos + 4, len);
        pos += 4 + len;
        REQUIRE(frames < events.size());
        const auto& ev = events[frames].as_object();
        INFO("frame " << frames);
        CHECK(std::size_t(ev.at("bytes").as_int64()) == len);

        // decode_prefix: header then body back to back, filling the frame.
        auto h = dec.decode_prefix(as_bytes(frame_bytes));
        REQUIRE(h);
        auto b = dec.decode_prefix(as_bytes(frame_bytes.substr(h->consumed)));
        REQUIRE(b);
        CHECK(h->consumed + b->consumed == len);
        dec.clear();
        // decode_frame gives the same.
        auto f = dec.decode_frame(frame_bytes);
        REQUIRE(f);
        // Canonical input re-encodes byte-identically.
        CHECK(cbor::encode(f->header) + cbor::encode(f->body) == frame_bytes);

        CHECK(f->header.get_int("op") == ev.at("op").as_int64());
        const auto t = f->header.get_text("t");
        REQUIRE(t);
        CHECK(*t == ev.at("t").as_string());
        const auto seq = f->body.get_int("seq");
        REQUIRE(seq);
        CHECK(*seq == ev.at("seq").as_int64());
        CHECK(*seq > last_seq);
        last_seq = *seq;

        if (*t == "#commit") {
            ++commits;
            CHECK(f->body.get_text("repo") == ev.at("repo").as_string());
            CHECK(f->body.get_text("rev") == ev.at("rev").as_string());
            const value* commit = f->body.find("commit");
            REQUIRE(commit);
            REQUIRE(commit->is_link());
            CHECK(commit->as_cid()->to_string() == ev.at("commit").as_string());
            const value* blocks = f->body.find("blocks");
            REQUIRE(blocks);
            REQUIRE(blocks->is_bytes());
            CHECK(std::int64_t(blocks->size()) == ev.at("blocksBytes").as_int64());
            auto car = parse_car(blocks->as_bytes(), true);
            REQUIRE(car);
            REQUIRE(car->roots.size() == 1);
            CHECK(car->roots[0].to_string() == ev.at("carRoots").as_array()[0].as_string());
            CHECK(car->find(car->roots[0]) != nullptr);

            const value* ops = f->body.find("ops");
            REQUIRE(ops);
            const auto& ev_ops = ev.at("ops").as_array();
            REQUIRE(ops->items().size() == ev_ops.size());
            for (std::size_t i = 0; i < ev_ops.size(); ++i) {
                const value& op = ops->items()[i];
                const auto& eo = ev_ops[i].as_object();
                ++ops_total;
                CHECK(op.get_text("action") == eo.at("action").as_string());
                CHECK(op.get_text("path") == eo.at("path").as_string());
                const value* c = op.find("cid");
                REQUIRE(c);
                if (eo.at("cid").is_null()) {
                    CHECK(c->is_null());
                    continue;
                }
                REQUIRE(c->is_link());
                CHECK(c->as_cid()->to_string() == eo.at("cid").as_string());
                const car_block* blk = car->find(c->as_link());
                REQUIRE(blk);
                ++ops_found;
                auto rec = rec_dec.decode(blk->data);
                REQUIRE(rec);
                if (eo.contains("$type"))
                    CHECK(rec->get_text("$type") == eo.at("$type").as_string());
                if (rec->get_text("$type") == "app.bsky.graph.follow") {
                    ++follows;
                    CHECK(rec->get_text("subject") == eo.at("subject").as_string());
                }
            }
        } else if (*t == "#sync") {
            const value* blocks = f->body.find("blocks");
            REQUIRE(blocks);
            auto car = parse_car(blocks->as_bytes(), true);
            REQUIRE(car);
            CHECK(car->blocks.size() == 1);
        } else if (*t == "#identity" || *t == "#account") {
            CHECK(f->body.get_text("did") == ev.at("did").as_string());
        }
        ++frames;
    }
    CHECK(frames == 134);
    CHECK(commits == 65);
    CHECK(last_seq == 134);
    CHECK(ops_found + 8 == ops_total);  // 8 follow deletes carry no CID
    CHECK(ops_found == 35);
    CHECK(follows == 25);  // decoded.json followsBySubject: 1 + 24 creates
}
