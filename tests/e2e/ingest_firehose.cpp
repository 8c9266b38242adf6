// E2E: the real binary ingesting the recorded PDS firehose through the in-test fake relay (with
// a dropped connection), then synthesized frames: [delete, create] in one commit, account
// takedown and reactivation, malformed CBOR and CAR, a block whose hash does not match its CID,
// unknown and #info frames. The effective labels must equal ground-truth.json plus the
// synthesized followers, and every bad frame must be counted without stopping ingestion.
#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <fstream>

#include "tests/e2e/fake_relay.hpp"
#include "tests/e2e/harness.hpp"
#include "tests/e2e/ingest_support.hpp"

using namespace labeler;
using namespace labeler::e2e;
using namespace labeler::e2e::ingest;
using labeler::testing::binary_frame;
using labeler::testing::fake_relay;
namespace fh = labeler::testing::firehose;

namespace {

struct truth {
    std::string labeler;
    std::set<std::string> followers, unfollowed;
};

truth load_truth() {
    std::ifstream in(std::string(LABELER_FIXTURE_DIR) + "/pds-firehose/ground-truth.json");
    std::stringstream ss;
    ss << in.rdbuf();
    auto v = boost::json::parse(ss.str()).as_object();
    truth t;
    t.labeler = std::string(v.at("labeler").at("did").as_string());
    for (auto& d : v.at("finalFollowerDids").as_array()) t.followers.insert(std::string(d.as_string()));
    for (auto& d : v.at("unfollowedDids").as_array()) t.unfollowed.insert(std::string(d.as_string()));
    return t;
}

std::string synth(const char* who) { return fmt::format("did:plc:synth{}xxxxxxxxxxxxxxxxxx", who); }

}  // namespace

TEST_CASE("firehose ingestion: the PDS capture yields exactly ground truth, bad frames are counted") {
    auto t = load_truth();
    REQUIRE(t.followers.size() == 16);
    temp_dir dir;
    write_key(dir.path());
    profile_options o;
    o.did = t.labeler;
    o.source_kind = "firehose";
    fake_relay relay({60});  // the first connection is cut after 60 frames
    auto capture = fh::load_capture(std::string(LABELER_FIXTURE_DIR) +
                                    "/pds-firehose/firehose.bin");
    REQUIRE(capture.size() == 134);
    relay.push(capture);

    const std::string L = t.labeler;
    using op = fh::op;
    std::vector<labeler::testing::scripted_frame> extra;
    std::uint64_t seq = 135;
    auto push = [&](std::string frame) { extra.push_back(binary_frame(seq++, std::move(frame))); };
    std::vector<op> a1{{"create", "app.bsky.graph.follow", "3s1", L}};
    push(fh::commit(seq, synth("a"), a1));
    std::vector<op> a2{{"delete", "app.bsky.graph.follow", "3s1", {}},
                       {"create", "app.bsky.graph.follow", "3s2", L}};
    push(fh::commit(seq, synth("a"), a2));                          // [delete, create]
    push(fh::account(seq, synth("a"), false, "takendown"));         // loses the label
    push(fh::account(seq, synth("a"), true));                       // gets one again
    push(std::string("\xa2\x61t\x67#commit\x62op\x01\xa3\x63ops\xff\xff", 20));  // bad CBOR
    std::vector<op> b{{"create", "app.bsky.graph.follow", "3b1", L}};
    push(fh::commit(seq, synth("b"), b, {.bad_block_hash = true}));  // hash mismatch
    std::vector<op> c{{"create", "app.bsky.graph.follow", "3c1", L}};
    push(fh::commit(seq, synth("c"), c, {.truncated_car = true}));   // malformed CAR
    push(fh::unknown_type(seq));
    extra.push_back(binary_frame(seq - 1, fh::info("OutdatedCursor", "synthetic")));
    std::vector<op> d{{"create", "app.bsky.graph.follow", "3d1", L}};
    push(fh::commit(seq, synth("d"), d));                            // ingestion continues
    const std::uint64_t last_seq = seq - 1;
    relay.push(extra);

    o.urls = {relay.url()};
    auto profile = write_profile(dir.path(), o);
    patch_source(profile, "backoff_initial_ms = 10\nbackoff_max_ms = 200");
    auto proc = labeler_process::start(profile);
    INFO(proc->log());
    auto expected = t.followers;
    expected.insert(synth("a"));
    expected.insert(synth("d"));
    bool done = eventually([&] {
        return metric(proc->port(), "labeler_pipeline_cursor") >= double(last_seq) &&
               holders(effective(query_all(proc->port()))) == expected;
    });
    auto labels = query_all(proc->port());
    auto held = holders(effective(labels));
    CHECK(held == expected);
    REQUIRE(done);
    for (auto& u : t.unfollowed) CHECK(held.count(u) == 0);
    CHECK(held.count(synth("b")) == 0);
    CHECK(held.count(synth("c")) == 0);

    // subscribeLabels from 0 tells the same story; synth a was negated once and relabelled.
    auto log = subscribe_all(proc->port());
    std::vector<atproto::label> replay;
    std::size_t a_entries = 0;
    for (auto& e : log) {
        replay.push_back(e.label);
        if (e.label.uri == synth("a")) ++a_entries;
    }
    CHECK(holders(effective(replay)) == expected);
    CHECK(a_entries == 3);  // label, negation (takedown), new label; [delete, create] added none

    CHECK(metric(proc->port(), "labeler_pipeline_decode_errors_total") >= 3);
    CHECK(metric(proc->port(), "labeler_source_reconnects_total", "reason=\"dropped\"") >= 1);
    auto cursors = relay.cursors();
    REQUIRE(cursors.size() >= 2);
    if (cursors[1]) CHECK(*cursors[1] <= 60);
    REQUIRE(proc->terminate() == 0);

    // Restart: resumes at the stored seq (no rewind for seq); nothing new is issued.
    auto before = relay.connections();
    auto proc2 = labeler_process::start(profile);
    REQUIRE(relay.wait_connections(before + 1, std::chrono::seconds(20)));
    CHECK(relay.cursors()[before] == std::optional<std::uint64_t>(last_seq));
    CHECK(holders(effective(query_all(proc2->port()))) == expected);
    CHECK(subscribe_all(proc2->port()).size() == log.size());
    REQUIRE(proc2->terminate() == 0);
}

TEST_CASE("firehose ingestion: a FutureCursor error frame leads to a logged reconnect") {
    temp_dir dir;
    write_key(dir.path());
    profile_options o;
    o.source_kind = "firehose";
    fake_relay relay;
    relay.push(binary_frame(1, fh::account(1, "did:plc:someonexxxxxxxxxxxxxxxxx", true)));
    o.urls = {relay.url()};
    auto profile = write_profile(dir.path(), o);
    patch_source(profile, "backoff_initial_ms = 10\nbackoff_max_ms = 100");
    auto proc = labeler_process::start(profile, {"--cursor", "999"});
    INFO(proc->log());
    REQUIRE(proc->wait_log("FutureCursor", std::chrono::seconds(20)));
    REQUIRE(eventually([&] {
        return metric(proc->port(), "labeler_source_reconnects_total",
                      "reason=\"future_cursor\"") >= 1;
    }));
    CHECK(proc->running());
    REQUIRE(proc->terminate() == 0);
}
