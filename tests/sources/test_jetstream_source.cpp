#include <catch2/catch.hpp>

#include <zstd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "tests/e2e/fake_jetstream.hpp"
#include "tests/sources/helpers.hpp"

using namespace labeler::testing;
using labeler::pipeline::frame_kind;
using labeler::pipeline::make_jetstream_source;
using labeler::pipeline::source_context;

namespace {

constexpr const char* labeler_did = "did:plc:labelerlabelerlabeler00";

std::vector<scripted_frame> script(std::size_t n, std::uint64_t t0 = 1'000'000) {
    std::vector<scripted_frame> out;
    for (std::size_t i = 0; i < n; ++i) {
        auto did = "did:plc:follower" + std::to_string(i);
        out.push_back(text_frame(t0 + i, jetstream_json::follow(did, t0 + i, "3l3qo2vuowo2" + std::to_string(i), labeler_did)));
    }
    return out;
}

std::uint64_t time_us_of(const std::string& json) {
    auto p = json.find("\"time_us\":");
    REQUIRE(p != std::string::npos);
    return std::strtoull(json.c_str() + p + 10, nullptr, 10);
}

std::string temp_dir() {
    std::string t = (std::filesystem::temp_directory_path() / "sources-test-XXXXXX").string();
    REQUIRE(mkdtemp(t.data()) != nullptr);
    return t;
}

}  // namespace

TEST_CASE("jetstream source delivers text events in order with the expected query") {
    fake_jetstream js;
    js.push(script(50));
    recording_sink sink;
    prometheus::Registry reg;
    auto cfg = make_source_config({js.url()});
    auto src = make_jetstream_source({cfg, sink, [] { return std::optional<std::uint64_t>(); }, reg});
    src->start();
    REQUIRE(sink.wait_for(50));
    src->stop();
    auto frames = sink.frames();
    REQUIRE(frames.size() == 50);
    for (std::size_t i = 0; i < frames.size(); ++i) {
        CHECK(frames[i].second == frame_kind::jetstream_json);
        CHECK(time_us_of(frames[i].first) == 1'000'000 + i);
    }
    auto targets = js.targets();
    REQUIRE(targets.size() == 1);
    CHECK(targets[0] == "/subscribe?wantedCollections=app.bsky.graph.follow&maxMessageSizeBytes=" +
                            std::to_string(cfg.max_event_bytes));
    CHECK(metric_value(reg, "labeler_source_frames_total", "kind", "text") == 50);
    CHECK(metric_value(reg, "labeler_source_bytes_total") > 50 * 100);
    CHECK(metric_value(reg, "labeler_source_connected") == 0);
    CHECK_FALSE(src->finished());
}

TEST_CASE("jetstream source resumes from the stored cursor minus the rewind") {
    fake_jetstream js;
    js.push(script(20, 10'000'000));  // time_us 10,000,000 .. 10,000,019
    recording_sink sink;
    prometheus::Registry reg;
    auto cfg = make_source_config({js.url()});
    cfg.rewind = std::chrono::seconds(5);
    auto src = make_jetstream_source(
        {cfg, sink, [] { return std::optional<std::uint64_t>(15'000'010); }, reg});
    src->start();
    REQUIRE(sink.wait_for(10));
    src->stop();
    auto cursors = js.cursors();
    REQUIRE(!cursors.empty());
    CHECK(cursors[0] == std::optional<std::uint64_t>(10'000'010));  // 15,000,010 - 5 s
    auto frames = sink.frames();
    REQUIRE(frames.size() == 10);  // inclusive cursor: 10,000,010 .. 10,000,019
    CHECK(time_us_of(frames.front().first) == 10'000'010);
}

TEST_CASE("jetstream source reconnects after a dropped connection and resumes") {
    fake_jetstream js({7});  // the first connection is cut after 7 events
    js.push(script(30));
    recording_sink sink;
    prometheus::Registry reg;
    auto cfg = make_source_config({js.url()});
    std::atomic<std::uint64_t> last{0};
    struct tracking_sink : labeler::pipeline::frame_sink {
        recording_sink& inner;
        std::atomic<std::uint64_t>& last;
        tracking_sink(recording_sink& i, std::atomic<std::uint64_t>& l) : inner(i), last(l) {}
        void on_frame(std::string_view p, frame_kind k) override {
            last = time_us_of(std::string(p));
            inner.on_frame(p, k);
        }
    } tracker(sink, last);
    auto src = make_jetstream_source({cfg, tracker,
                                      [&] {
                                          auto v = last.load();
                                          return v ? std::optional<std::uint64_t>(v)
                                                   : std::nullopt;
                                      },
                                      reg});
    src->start();
    REQUIRE(sink.wait_for(31));  // 7, then 24 from the inclusive cursor (one replayed)
    src->stop();
    auto cursors = js.cursors();
    REQUIRE(cursors.size() >= 2);
    CHECK_FALSE(cursors[0].has_value());
    CHECK(cursors[1] == std::optional<std::uint64_t>(1'000'006));
    std::set<std::uint64_t> seen;
    for (auto& f : sink.frames()) seen.insert(time_us_of(f.first));
    CHECK(seen.size() == 30);
    CHECK(metric_value(reg, "labeler_source_reconnects_total", "reason", "dropped") >= 1);
}

TEST_CASE("jetstream source skips oversize messages without dropping the connection") {
    fake_jetstream js;
    auto s = script(3);
    std::string big = R"({"did":"did:plc:big","time_us":1000001,"kind":"commit","pad":")" +
                      std::string(5000, 'x') + "\"}";
    s.insert(s.begin() + 1, text_frame(1'000'001, big));
    for (std::size_t i = 2; i < s.size(); ++i) s[i].key = 1'000'000 + i;
    js.push(s);
    recording_sink sink;
    prometheus::Registry reg;
    auto cfg = make_source_config({js.url()});
    cfg.max_event_bytes = 1000;
    auto src = make_jetstream_source({cfg, sink, [] { return std::optional<std::uint64_t>(); }, reg});
    src->start();
    REQUIRE(sink.wait_for(3));
    src->stop();
    CHECK(sink.size() == 3);
    for (auto& f : sink.frames()) CHECK(f.first.size() < 1000);
    CHECK(metric_value(reg, "labeler_source_oversize_total") == 1);
    CHECK(metric_value(reg, "labeler_source_dropped_total", "reason", "oversize") == 1);
    CHECK(js.connections() == 1);
    CHECK(js.targets()[0].find("maxMessageSizeBytes=1000") != std::string::npos);
}

TEST_CASE("jetstream source decodes zstd frames with the configured dictionary") {
    auto dir = temp_dir();
    // A raw-content dictionary: zstd accepts any bytes as a dictionary prefix.
    std::string dict = jetstream_json::follow("did:plc:dictdictdict", 1, "3l3qo2vuowo2b",
                                              labeler_did);
    auto dict_path = std::filesystem::path(dir) / "jetstream.zdict";
    std::ofstream(dict_path, std::ios::binary) << dict;

    fake_jetstream js;
    auto s = script(5);
    ZSTD_CCtx* cctx = ZSTD_createCCtx();
    for (auto& f : s) {
        std::string out(ZSTD_compressBound(f.payload.size()), '\0');
        auto n = ZSTD_compress_usingDict(cctx, out.data(), out.size(), f.payload.data(),
                                         f.payload.size(), dict.data(), dict.size(), 3);
        REQUIRE_FALSE(ZSTD_isError(n));
        out.resize(n);
        f.payload = out;
        f.binary = true;
    }
    ZSTD_freeCCtx(cctx);
    s.push_back(scripted_frame{2'000'000, "\x28\xb5\x2f\xfd garbage", true});  // corrupt frame
    s.push_back(text_frame(2'000'001, jetstream_json::unfollow("did:plc:x", 2'000'001, "3l3a")));
    js.push(s);

    recording_sink sink;
    prometheus::Registry reg;
    auto cfg = make_source_config({js.url()});
    cfg.zstd_dictionary = dict_path;
    auto src = make_jetstream_source({cfg, sink, [] { return std::optional<std::uint64_t>(); }, reg});
    src->start();
    REQUIRE(sink.wait_for(6));
    src->stop();
    auto frames = sink.frames();
    REQUIRE(frames.size() == 6);
    auto plain = script(5);
    for (std::size_t i = 0; i < 5; ++i) CHECK(frames[i].first == plain[i].payload);
    CHECK(time_us_of(frames[5].first) == 2'000'001);
    CHECK(js.targets()[0].find("compress=true") != std::string::npos);
    CHECK(metric_value(reg, "labeler_source_dropped_total", "reason", "zstd_error") == 1);
    CHECK(metric_value(reg, "labeler_source_frames_total", "kind", "binary") == 6);
    std::filesystem::remove_all(dir);
}

TEST_CASE("jetstream source counts binary frames when no dictionary is configured") {
    fake_jetstream js;
    js.push(scripted_frame{1, "\x28\xb5\x2f\xfd\x00\x00", true});
    js.push(script(2, 2));
    recording_sink sink;
    prometheus::Registry reg;
    auto cfg = make_source_config({js.url()});
    auto src = make_jetstream_source({cfg, sink, [] { return std::optional<std::uint64_t>(); }, reg});
    src->start();
    REQUIRE(sink.wait_for(2));
    src->stop();
    CHECK(sink.size() == 2);
    CHECK(metric_value(reg, "labeler_source_dropped_total", "reason",
                       "binary_without_dictionary") == 1);
    CHECK(js.targets()[0].find("compress") == std::string::npos);
}

TEST_CASE("jetstream source fails over to the next URL") {
    fake_jetstream js;
    js.push(script(4));
    recording_sink sink;
    prometheus::Registry reg;
    auto dead = "ws://127.0.0.1:" + std::to_string(dead_port()) + "/subscribe";
    auto cfg = make_source_config({dead, js.url()});
    auto src = make_jetstream_source({cfg, sink, [] { return std::optional<std::uint64_t>(); }, reg});
    src->start();
    REQUIRE(sink.wait_for(4));
    src->stop();
    CHECK(sink.size() == 4);
    CHECK(metric_value(reg, "labeler_source_reconnects_total", "reason", "connect_failed") >= 1);
}

TEST_CASE("jetstream source stop() interrupts an idle connection and a backoff wait") {
    SECTION("idle connection") {
        fake_jetstream js;
        recording_sink sink;
        prometheus::Registry reg;
        auto cfg = make_source_config({js.url()});
        auto src =
            make_jetstream_source({cfg, sink, [] { return std::optional<std::uint64_t>(); }, reg});
        src->start();
        REQUIRE(js.wait_connections(1, std::chrono::seconds(20)));
        src->stop();
        src->stop();  // idempotent
        CHECK(sink.size() == 0);
        CHECK(metric_value(reg, "labeler_source_connected") == 0);
    }
    SECTION("long backoff") {
        fake_jetstream js({0});  // accepts, then cuts the first connection at once
        recording_sink sink;
        prometheus::Registry reg;
        auto cfg = make_source_config({js.url()});
        cfg.backoff_initial = std::chrono::hours(1);
        cfg.backoff_max = std::chrono::hours(1);
        auto src =
            make_jetstream_source({cfg, sink, [] { return std::optional<std::uint64_t>(); }, reg});
        src->start();
        REQUIRE(js.wait_connections(1, std::chrono::seconds(20)));
        src->stop();  // returns although the next attempt is up to an hour away
        CHECK(sink.size() == 0);
        CHECK(js.connections() == 1);
    }
}
