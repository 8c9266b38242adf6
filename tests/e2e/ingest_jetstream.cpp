// E2E: the real binary ingesting from the in-test fake Jetstream. Scripted follows/unfollows,
// duplicates, unknown rkeys, account takedown and reactivation, malformed and oversize events
// and a dropped connection; the effective labels served by queryLabels and subscribeLabels must
// be exactly the accounts that still follow, and a restart resumes from the stored cursor minus
// the rewind without changing anything.
#include <catch2/catch.hpp>

#include "tests/e2e/fake_jetstream.hpp"
#include "tests/e2e/harness.hpp"
#include "tests/e2e/ingest_support.hpp"

using namespace labeler;
using namespace labeler::e2e;
using namespace labeler::e2e::ingest;
using labeler::testing::fake_jetstream;
using labeler::testing::scripted_frame;
using labeler::testing::text_frame;
namespace js = labeler::testing::jetstream_json;

namespace {

constexpr std::uint64_t t0 = 1'764'000'000'000'000;  // time_us of the first event
constexpr std::uint64_t step = 1'000'000;             // one event per second of Jetstream time

std::string did(const char* who) { return fmt::format("did:plc:{}xxxxxxxxxxxxxxxxxxxxx", who); }

struct scenario {
    std::vector<scripted_frame> frames;
    std::set<std::string> expected;   // still following at the end
    std::set<std::string> excluded;   // must hold nothing
    std::uint64_t t = t0;

    void add(std::string json) { frames.push_back(text_frame(t, std::move(json))), t += step; }
    std::uint64_t next_time() const { return t; }
};

scenario build(const std::string& L) {
    scenario s;
    auto& S = s;
    S.add(js::follow(did("alice"), S.next_time(), "3a1", L));                 // follows
    S.add(js::follow(did("bob"), S.next_time(), "3b1", L));                   // follows
    S.add(js::follow(did("carol"), S.next_time(), "3c1", did("alice")));      // someone else
    S.add(js::follow(did("dave"), S.next_time(), "3d1", L));
    S.add(js::unfollow(did("dave"), S.next_time(), "3d1"));                   // unfollows
    S.add(js::follow(did("erin"), S.next_time(), "3e1", L));
    S.add(js::follow(did("erin"), S.next_time(), "3e2", L));                  // duplicate record
    S.add(js::unfollow(did("erin"), S.next_time(), "3e1"));                   // still follows
    S.add(js::unfollow(did("frank"), S.next_time(), "3f9"));                  // unknown rkey
    S.add("{\"did\":\"did:plc:broken\",\"time_us\":");                        // malformed JSON
    S.add(js::follow(did("grace"), S.next_time(), "3g1", L));
    S.add(js::account(did("grace"), S.next_time(), false, "takendown"));      // loses it
    S.add(js::account(did("grace"), S.next_time(), true));                    // gets one again
    S.add(js::follow(did("heidi"), S.next_time(), "3h1", L));
    S.add(js::account(did("heidi"), S.next_time(), false, "takendown"));      // stays down
    {
        auto big = js::follow(did("ivan"), S.next_time(), "3i1", L);
        big.insert(big.size() - 1, ",\"pad\":\"" + std::string(8000, 'p') + "\"");
        S.add(big);                                                           // oversize
    }
    S.add(js::other_commit(did("alice"), S.next_time(), "app.bsky.feed.like", "3l1"));
    S.add(js::identity(did("bob"), S.next_time(), "bob.test"));
    S.add(js::follow(did("judy"), S.next_time(), "3j1", L));
    S.add(js::unfollow(did("judy"), S.next_time(), "3j1"));
    S.add(js::follow(did("judy"), S.next_time(), "3j2", L));                  // re-follows
    S.add(js::follow(did("ken"), S.next_time(), "3k1", L));
    S.add(js::account(did("ken"), S.next_time(), false, "deleted"));
    S.add(js::unfollow(did("bob"), S.next_time(), "3b1"));
    S.add(js::follow(did("bob"), S.next_time(), "3b2", L));                   // back again
    s.expected = {did("alice"), did("bob"), did("erin"), did("grace"), did("judy")};
    s.excluded = {did("carol"), did("dave"), did("frank"), did("heidi"), did("ivan"), did("ken")};
    return s;
}

void check_effective(const effective_map& eff, const scenario& s) {
    CHECK(holders(eff) == s.expected);
    for (auto& [uri, vals] : eff) {
        INFO(uri);
        CHECK(vals.size() <= 1);  // one fortune at a time
    }
}

}  // namespace

TEST_CASE("jetstream ingestion: effective labels are exactly the accounts that still follow") {
    temp_dir dir;
    write_key(dir.path());
    profile_options o;
    auto s = build(o.did);
    fake_jetstream fake({9});  // the first connection is cut after 9 events
    fake.push(s.frames);
    o.urls = {fake.url()};
    auto profile = write_profile(dir.path(), o);
    patch_source(profile, "rewind_seconds = 5\nmax_event_bytes = 4096\n"
                          "backoff_initial_ms = 10\nbackoff_max_ms = 200");
    const std::uint64_t last_time = s.frames.back().key;

    auto proc = labeler_process::start(profile);
    INFO(proc->log());
    REQUIRE(eventually([&] {
        return metric(proc->port(), "labeler_pipeline_cursor") >= double(last_time) &&
               holders(effective(query_all(proc->port()))) == s.expected;
    }));
    auto labels = query_all(proc->port());
    check_effective(effective(labels), s);

    // subscribeLabels from 0 replays the same story.
    auto log = subscribe_all(proc->port());
    std::vector<atproto::label> replay;
    for (auto& e : log) replay.push_back(e.label);
    check_effective(effective(replay), s);

    // Bad input was counted, and the dropped connection was reconnected.
    CHECK(metric(proc->port(), "labeler_source_oversize_total") >= 1);
    CHECK(metric(proc->port(), "labeler_pipeline_decode_errors_total") >= 1);
    CHECK(metric(proc->port(), "labeler_source_reconnects_total", "reason=\"dropped\"") >= 1);
    auto cursors = fake.cursors();
    REQUIRE(cursors.size() >= 2);
    CHECK_FALSE(cursors[0].has_value());  // first start: live tail
    if (cursors[1])  // resumed from what was committed, minus the rewind
        CHECK(*cursors[1] <= t0 + 8 * step - 5 * step);
    REQUIRE(proc->terminate() == 0);

    // Restart: resumes from the stored cursor minus the rewind; the replay changes nothing.
    const std::size_t connections_before = fake.connections();
    auto proc2 = labeler_process::start(profile);
    INFO(proc2->log());
    REQUIRE(fake.wait_connections(connections_before + 1, std::chrono::seconds(20)));
    CHECK(fake.cursors()[connections_before] == std::optional<std::uint64_t>(last_time - 5 * step));
    // A sentinel follow after the replayed events proves the replay was processed.
    fake.push(text_frame(last_time + step, js::follow(did("zed"), last_time + step, "3z1", o.did)));
    REQUIRE(eventually([&] { return holders(effective(query_all(proc2->port()))).count(did("zed")); }));
    auto after = query_all(proc2->port());
    auto expected = s.expected;
    expected.insert(did("zed"));
    CHECK(holders(effective(after)) == expected);
    auto log2 = subscribe_all(proc2->port());
    CHECK(log2.size() == log.size() + 1);  // only zed's label is new
    REQUIRE(proc2->terminate() == 0);
}
