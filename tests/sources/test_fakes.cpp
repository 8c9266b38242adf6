#include <catch2/catch.hpp>

#include "src/atproto/sha256.hpp"
#include "tests/e2e/fake_jetstream.hpp"
#include "tests/e2e/fake_relay.hpp"

using namespace labeler::testing;

TEST_CASE("the capture loader yields seq 1..134 in order") {
    auto frames = firehose::load_capture(std::string(LABELER_FIXTURE_DIR) +
                                         "/pds-firehose/firehose.bin");
    REQUIRE(frames.size() == 134);
    for (std::size_t i = 0; i < frames.size(); ++i) {
        CHECK(frames[i].key == i + 1);
        CHECK(frames[i].binary);
    }
}

TEST_CASE("synthesized firehose frames carry their seq and canonical headers") {
    std::vector<firehose::op> ops{{"delete", "app.bsky.graph.follow", "3a", {}},
                                  {"create", "app.bsky.graph.follow", "3b", "did:plc:lab"}};
    auto c = firehose::commit(42, "did:plc:alice", ops);
    CHECK(c.substr(0, 15) == std::string("\xa2\x61t\x67#commit\x62op\x01", 15));
    CHECK(firehose::seq_of(c) == std::optional<std::uint64_t>(42));
    CHECK(firehose::seq_of(firehose::account(7, "did:plc:a", false, "takendown")) ==
          std::optional<std::uint64_t>(7));
    CHECK(firehose::seq_of(firehose::identity(8, "did:plc:a", "a.test")) ==
          std::optional<std::uint64_t>(8));
    CHECK_FALSE(firehose::seq_of(firehose::info("OutdatedCursor", "old")).has_value());
    CHECK(firehose::error("FutureCursor", "x").substr(0, 5) == std::string("\xa1\x62op\x20", 5));
    CHECK_FALSE(firehose::seq_of("\xff\x00garbage").has_value());
}

TEST_CASE("a synthesized commit holds the follow record block under its CID") {
    std::vector<firehose::op> ops{{"create", "app.bsky.graph.follow", "3b", "did:plc:lab"}};
    auto c = firehose::commit(1, "did:plc:alice", ops);
    // The record block is the DAG-CBOR follow record; its CID (01 71 12 20 + sha256) must be
    // followed in the CAR section by exactly those bytes.
    auto rec_start = c.find("\x65$type");
    REQUIRE(rec_start != std::string::npos);
    std::size_t rec_begin = rec_start - 1;  // the map head a3
    REQUIRE(std::uint8_t(c[rec_begin]) == 0xa3);
    auto rec_end = c.find("createdAt", rec_begin);
    REQUIRE(rec_end != std::string::npos);
    std::string rec = c.substr(rec_begin, rec_end + 9 + 2 + 24 - rec_begin);
    auto d = labeler::atproto::sha256(rec);
    std::string cid("\x01\x71\x12\x20", 4);
    cid.append(reinterpret_cast<const char*>(d.data()), 32);
    CHECK(c.find(cid + rec) != std::string::npos);   // CAR section: cid + data
    CHECK(c.find(std::string(1, '\0') + cid) != std::string::npos);  // op link: 0x00 + cid
    auto bad = firehose::commit(1, "did:plc:alice", ops, {.bad_block_hash = true});
    CHECK(bad.find(cid + rec) == std::string::npos);
}

TEST_CASE("append_ws_frame uses the three length encodings") {
    std::string out;
    append_ws_frame(out, std::string(10, 'a'), false);
    CHECK(out.substr(0, 2) == "\x81\x0a");
    out.clear();
    append_ws_frame(out, std::string(300, 'a'), true);
    CHECK(out.substr(0, 4) == std::string("\x82\x7e\x01\x2c", 4));
    out.clear();
    append_ws_frame(out, std::string(70000, 'a'), true);
    CHECK(out.substr(0, 10) == std::string("\x82\x7f\x00\x00\x00\x00\x00\x01\x11\x70", 10));
    CHECK(out.size() == 70010);
}
