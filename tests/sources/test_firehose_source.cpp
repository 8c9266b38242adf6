#include <catch2/catch.hpp>

#include <atomic>

#include "tests/e2e/fake_relay.hpp"
#include "tests/sources/helpers.hpp"

using namespace labeler::testing;
using labeler::pipeline::frame_kind;
using labeler::pipeline::make_firehose_source;

namespace labeler::pipeline {
void parse_error_body(std::string_view body, std::string& error, std::string& message);
}

namespace {
std::vector<scripted_frame> capture() {
    auto frames = firehose::load_capture(std::string(LABELER_FIXTURE_DIR) +
                                         "/pds-firehose/firehose.bin");
    REQUIRE(frames.size() == 134);
    return frames;
}

// A frame_sink that also remembers the last seq, as the pipeline's committed cursor would.
struct seq_sink : labeler::pipeline::frame_sink {
    recording_sink inner;
    std::atomic<std::uint64_t> last{0};
    void on_frame(std::string_view p, frame_kind k) override {
        if (auto s = firehose::seq_of(p)) last = *s;
        inner.on_frame(p, k);
    }
    std::optional<std::uint64_t> cursor() const {
        auto v = last.load();
        return v ? std::optional<std::uint64_t>(v) : std::nullopt;
    }
};
}  // namespace

TEST_CASE("firehose source delivers the recorded capture byte for byte") {
    fake_relay relay;
    auto frames = capture();
    relay.push(frames);
    recording_sink sink;
    prometheus::Registry reg;
    auto cfg = make_source_config({relay.url()});
    auto src = make_firehose_source({cfg, sink, [] { return std::optional<std::uint64_t>(); }, reg});
    src->start();
    REQUIRE(sink.wait_for(134));
    src->stop();
    auto got = sink.frames();
    REQUIRE(got.size() == 134);
    for (std::size_t i = 0; i < got.size(); ++i) {
        CHECK(got[i].second == frame_kind::firehose);
        CHECK(got[i].first == frames[i].payload);
    }
    CHECK(relay.targets()[0] == "/xrpc/com.atproto.sync.subscribeRepos");
    CHECK(metric_value(reg, "labeler_source_frames_total", "kind", "binary") == 134);
}

TEST_CASE("firehose source sends the stored seq as cursor") {
    fake_relay relay;
    relay.push(capture());
    recording_sink sink;
    prometheus::Registry reg;
    auto cfg = make_source_config({relay.url()});
    cfg.rewind = std::chrono::seconds(5);  // Jetstream only: never applied to seq
    auto src = make_firehose_source(
        {cfg, sink, [] { return std::optional<std::uint64_t>(100); }, reg});
    src->start();
    REQUIRE(sink.wait_for(34));
    src->stop();
    auto got = sink.frames();
    REQUIRE(got.size() == 34);
    CHECK(firehose::seq_of(got.front().first) == std::optional<std::uint64_t>(101));
    CHECK(firehose::seq_of(got.back().first) == std::optional<std::uint64_t>(134));
    CHECK(relay.targets()[0] == "/xrpc/com.atproto.sync.subscribeRepos?cursor=100");
}

TEST_CASE("firehose source reconnects after a dropped connection without losing frames") {
    fake_relay relay({40, 13});
    auto frames = capture();
    relay.push(frames);
    seq_sink sink;
    prometheus::Registry reg;
    auto cfg = make_source_config({relay.url()});
    auto src = make_firehose_source({cfg, sink, [&] { return sink.cursor(); }, reg});
    src->start();
    REQUIRE(sink.inner.wait_for(134));
    src->stop();
    auto got = sink.inner.frames();
    REQUIRE(got.size() == 134);  // seq > cursor: nothing replayed twice
    for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i].first == frames[i].payload);
    auto cursors = relay.cursors();
    REQUIRE(cursors.size() >= 3);
    CHECK(cursors[1] == std::optional<std::uint64_t>(40));
    CHECK(cursors[2] == std::optional<std::uint64_t>(53));
    CHECK(metric_value(reg, "labeler_source_reconnects_total", "reason", "dropped") == 2);
}

TEST_CASE("firehose source treats an error frame as a reconnect, not as an event") {
    fake_relay relay;
    relay.push(binary_frame(1, firehose::account(1, "did:plc:a", true)));
    recording_sink sink;
    prometheus::Registry reg;
    auto cfg = make_source_config({relay.url()});
    std::atomic<int> calls{0};
    // First connection asks for a future cursor, later ones resume from 0.
    auto src = make_firehose_source({cfg, sink,
                                     [&] {
                                         return calls++ == 0 ? std::optional<std::uint64_t>(500)
                                                             : std::optional<std::uint64_t>(0);
                                     },
                                     reg});
    src->start();
    REQUIRE(sink.wait_for(1));
    src->stop();
    auto got = sink.frames();
    REQUIRE(got.size() == 1);
    CHECK(firehose::seq_of(got[0].first) == std::optional<std::uint64_t>(1));
    CHECK(metric_value(reg, "labeler_source_reconnects_total", "reason", "future_cursor") == 1);
    CHECK(metric_value(reg, "labeler_source_error_frames_total", "error", "future_cursor") == 1);
    auto cursors = relay.cursors();
    REQUIRE(cursors.size() >= 2);
    CHECK(cursors[0] == std::optional<std::uint64_t>(500));
}

TEST_CASE("firehose source counts text frames and keeps reading") {
    fake_relay relay;
    relay.push(scripted_frame{1, "{\"not\":\"cbor\"}", false});
    relay.push(binary_frame(2, firehose::identity(2, "did:plc:a", "a.test")));
    recording_sink sink;
    prometheus::Registry reg;
    auto cfg = make_source_config({relay.url()});
    auto src = make_firehose_source({cfg, sink, [] { return std::optional<std::uint64_t>(); }, reg});
    src->start();
    REQUIRE(sink.wait_for(1));
    src->stop();
    CHECK(sink.size() == 1);
    CHECK(metric_value(reg, "labeler_source_dropped_total", "reason", "text_frame") == 1);
}

TEST_CASE("parse_error_body extracts the error name and message") {
    auto frame = firehose::error("ConsumerTooSlow", "slow down");
    REQUIRE(frame.substr(0, 5) == std::string("\xa1\x62op\x20", 5));
    std::string e, m;
    labeler::pipeline::parse_error_body(frame.substr(5), e, m);
    CHECK(e == "ConsumerTooSlow");
    CHECK(m == "slow down");
    std::string e2, m2;
    labeler::pipeline::parse_error_body("\xa1\x65""error\x19", e2, m2);  // truncated
    CHECK(e2.empty());
}
