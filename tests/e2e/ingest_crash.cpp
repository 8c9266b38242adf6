// E2E crash test: the real binary ingests a long Jetstream script from the in-test fake and is
// killed with SIGKILL at random points, 10 times, restarting each time. At the end the label log
// (subscribeLabels from 0) has no duplicate seqs and no repeated (uri, val, neg) state, no
// subject ever holds two values at once, and the effective labels are exactly the accounts that
// still follow.
#include <catch2/catch.hpp>

#include <csignal>
#include <random>

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

TEST_CASE("jetstream ingestion survives 10 SIGKILLs at random points") {
    temp_dir dir;
    write_key(dir.path());
    profile_options o;
    const std::string L = o.did;

    // 100,000 events, 250 us apart (25 s of Jetstream time, five times the rewind): follows and
    // unfollows of the labeler by 300 accounts, plus follows of others and likes.
    std::mt19937_64 rng(20261129);
    constexpr std::uint64_t t0 = 1'764'000'000'000'000, step = 250;
    std::vector<scripted_frame> frames;
    std::map<std::string, std::vector<std::string>> live;  // follower -> live rkeys of L
    std::uint64_t rkey_counter = 0;
    for (std::size_t i = 0; i < 100'000; ++i) {
        std::uint64_t t = t0 + i * step;
        auto who = fmt::format("did:plc:crash{:04d}xxxxxxxxxxxxxxxx", rng() % 300);
        auto roll = rng() % 100;
        std::string json;
        if (roll < 6) {
            auto rk = fmt::format("3c{:011d}", ++rkey_counter);
            live[who].push_back(rk);
            json = js::follow(who, t, rk, L);
        } else if (roll < 10 && !live[who].empty()) {
            auto& v = live[who];
            auto idx = rng() % v.size();
            json = js::unfollow(who, t, v[idx]);
            v.erase(v.begin() + std::ptrdiff_t(idx));
        } else if (roll < 50) {
            json = js::follow(who, t, fmt::format("3o{:011d}", ++rkey_counter),
                              "did:plc:otheraccountxxxxxxxxxxxx");
        } else {
            json = js::other_commit(who, t, "app.bsky.feed.like", fmt::format("3l{:011d}", i));
        }
        frames.push_back(text_frame(t, std::move(json)));
    }
    std::set<std::string> expected;
    for (auto& [who, rks] : live)
        if (!rks.empty()) expected.insert(who);
    const std::uint64_t last_time = frames.back().key;

    fake_jetstream fake;
    fake.push(std::move(frames));
    o.urls = {fake.url()};
    auto profile = write_profile(dir.path(), o);
    patch_source(profile, "backoff_initial_ms = 10\nbackoff_max_ms = 100");

    std::uniform_int_distribution<int> delay_ms(5, 300);  // after "listening on"
    int mid_ingest = 0;  // kills that landed before the last event was committed
    for (int k = 0; k < 10; ++k) {
        auto proc = labeler_process::start(profile);
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
        double cursor = 0;
        try {
            cursor = metric(proc->port(), "labeler_pipeline_cursor");
        } catch (const std::exception&) {
        }
        proc->kill();
        if (cursor < double(last_time)) ++mid_ingest;
    }
    CHECK(mid_ingest >= 2);
    auto proc = labeler_process::start(profile);
    INFO(proc->log());
    bool done = eventually([&] {
        return metric(proc->port(), "labeler_pipeline_cursor") >= double(last_time) &&
               holders(effective(query_all(proc->port()))) == expected;
    }, std::chrono::seconds(120));
    auto held = holders(effective(query_all(proc->port())));
    CHECK(held == expected);
    REQUIRE(done);

    auto log = subscribe_all(proc->port());
    REQUIRE_FALSE(log.empty());
    std::map<std::pair<std::string, std::string>, bool> state;  // (uri, val) -> held
    std::map<std::string, int> held_count;                       // uri -> values held now
    std::uint64_t prev_seq = 0;
    for (auto& e : log) {
        INFO("seq " << e.seq << " " << e.label.uri << " " << e.label.val << " neg " << e.label.neg);
        CHECK(e.seq > prev_seq);  // no duplicates, ascending
        prev_seq = e.seq;
        auto key = std::make_pair(e.label.uri, e.label.val);
        auto it = state.find(key);
        bool was = it != state.end() && it->second;
        CHECK(was == e.label.neg);  // every entry changes the state: no repeated state
        if (was != !e.label.neg) held_count[e.label.uri] += e.label.neg ? -1 : 1;
        state[key] = !e.label.neg;
        CHECK(held_count[e.label.uri] <= 1);
    }
    std::vector<atproto::label> replay;
    for (auto& e : log) replay.push_back(e.label);
    CHECK(holders(effective(replay)) == expected);
    REQUIRE(proc->terminate() == 0);
}
