// The bounded queue and backpressure: a full queue blocks on_frame (so the source stops
// reading its socket) until the writer takes frames. No sleeps: the test waits until the
// producer is observed blocked inside push().
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <atomic>
#include <prometheus/registry.h>
#include <thread>

#include "pipeline/ingest.hpp"
#include "pipeline/queue.hpp"
#include "tests/pipeline/support.hpp"

using namespace labeler::pipeline;
using labeler::pipeline::test::wait_until;

namespace {

std::string follow_line(int i, const std::string& subject) {
    return fmt::format(R"({{"did":"did:plc:user{}","time_us":{},"kind":"commit","commit":)"
                       R"({{"rev":"r","operation":"create","collection":"app.bsky.graph.follow",)"
                       R"("rkey":"3k{}","record":{{"subject":"{}","createdAt":"x"}}}}}})",
                       i, 1000 + i, i, subject);
}

std::string post_line(int i) {
    return fmt::format(R"({{"did":"did:plc:user{}","time_us":{},"kind":"commit","commit":)"
                       R"({{"rev":"r","operation":"create","collection":"app.bsky.feed.post",)"
                       R"("rkey":"3k{}","record":{{"text":"hi"}}}}}})",
                       i, 1000 + i, i);
}

}  // namespace

TEST_CASE("queue: a full queue blocks on_frame until the writer takes a frame") {
    prometheus::Registry reg;
    probe p(reg);
    frame_queue q(2);
    ingest in("did:plc:lab", 1 << 20, q, p);
    std::atomic<int> delivered{0};
    std::thread source([&] {
        for (int i = 0; i < 3; ++i) {
            auto line = follow_line(i, "did:plc:lab");
            in.on_frame(line, frame_kind::jetstream_json);
            delivered = i + 1;
        }
    });
    // Two frames fit; the third blocks inside push().
    wait_until([&] { return q.blocked_producers() == 1; });
    CHECK(delivered == 2);
    CHECK(q.size() == 2);

    std::vector<frame_item> got;
    REQUIRE(q.pop(got, 1));  // the paused writer takes one frame
    source.join();
    CHECK(delivered == 3);
    CHECK(q.size() == 2);
    REQUIRE(q.pop(got, 10));
    REQUIRE(got.size() == 3);
    CHECK(got[0].events[0].did == "did:plc:user0");
    CHECK(got[2].events[0].did == "did:plc:user2");
    CHECK(got[2].cursor == 1002u);
}

TEST_CASE("queue: ignored events become one coalesced cursor marker") {
    prometheus::Registry reg;
    probe p(reg);
    frame_queue q(4);
    ingest in("did:plc:lab", 1 << 20, q, p);
    for (int i = 0; i < 100; ++i) {
        auto line = post_line(i);
        in.on_frame(line, frame_kind::jetstream_json);
    }
    auto other = follow_line(200, "did:plc:someoneelse");
    in.on_frame(other, frame_kind::jetstream_json);
    CHECK(q.size() == 1);
    auto kept = follow_line(300, "did:plc:lab");
    in.on_frame(kept, frame_kind::jetstream_json);
    for (int i = 400; i < 410; ++i) {
        auto line = post_line(i);
        in.on_frame(line, frame_kind::jetstream_json);
    }
    in.on_frame("{broken", frame_kind::jetstream_json);  // counted, no cursor
    std::vector<frame_item> got;
    REQUIRE(q.try_pop(got, 10) == 3);
    CHECK(got[0].events.empty());
    CHECK(got[0].cursor == 1200u);
    CHECK(got[1].events.size() == 1);
    CHECK(got[1].cursor == 1300u);
    CHECK(got[2].events.empty());
    CHECK(got[2].cursor == 1409u);
}

TEST_CASE("queue: close wakes a blocked producer and lets the consumer drain") {
    frame_queue q(1);
    frame_item a;
    a.events.resize(1);
    REQUIRE(q.push(std::move(a)));
    std::atomic<bool> result{true};
    std::thread producer([&] {
        frame_item b;
        b.events.resize(1);
        result = q.push(std::move(b));
    });
    wait_until([&] { return q.blocked_producers() == 1; });
    q.close();
    producer.join();
    CHECK_FALSE(result);
    std::vector<frame_item> got;
    CHECK(q.pop(got, 10));  // what was queued before close is still delivered
    CHECK(got.size() == 1);
    CHECK_FALSE(q.pop(got, 10));
    CHECK_FALSE(q.push_marker(5, true, 0));
}
