// The file source: JSON lines and length-prefixed firehose captures, the start cursor, and
// truncated/garbled files. The source runs on its own thread; the test waits for finished().
#include <catch2/catch.hpp>

#include <prometheus/registry.h>

#include "pipeline/sources/source.hpp"
#include "tests/pipeline/support.hpp"

using namespace labeler;
using namespace labeler::pipeline;
using namespace labeler::pipeline::test;

namespace {

struct recording_sink final : frame_sink {
    std::mutex mu;
    std::vector<std::pair<std::string, frame_kind>> frames;
    void on_frame(std::string_view payload, frame_kind kind) override {
        std::lock_guard lk(mu);
        frames.emplace_back(std::string(payload), kind);
    }
};

struct replay {
    config::source_config cfg;
    recording_sink sink;
    prometheus::Registry reg;
    std::optional<std::uint64_t> start;

    void run() {
        cfg.kind = config::source_config::kind_t::file;
        auto src = make_file_source({cfg, sink, [this] { return start; }, reg});
        CHECK_FALSE(src->finished());
        src->start();
        wait_until([&] { return src->finished(); });
        src->stop();
        src->stop();  // idempotent
    }
};

void write_file(const std::filesystem::path& p, std::string_view bytes) {
    std::ofstream out(p, std::ios::binary);
    out.write(bytes.data(), std::streamsize(bytes.size()));
}

std::string record(std::string_view frame) {
    std::string out;
    auto n = std::uint32_t(frame.size());
    out.push_back(char(n >> 24));
    out.push_back(char(n >> 16));
    out.push_back(char(n >> 8));
    out.push_back(char(n));
    out.append(frame);
    return out;
}

}  // namespace

TEST_CASE("file source: replays every JSON line in order at full speed") {
    temp_dir dir;
    auto path = dir.path / "events.jsonl";
    write_file(path,
               "{\"did\":\"did:plc:a\",\"time_us\":10,\"kind\":\"identity\"}\n"
               "\n"
               "{\"did\":\"did:plc:b\",\"time_us\":20,\"kind\":\"identity\"}\r\n"
               "garbage line\n"
               "{\"did\":\"did:plc:c\",\"time_us\":30,\"kind\":\"identity\"}");  // no final newline
    replay r;
    r.cfg.file = path;
    r.run();
    REQUIRE(r.sink.frames.size() == 4);
    CHECK(r.sink.frames[0].first.find("did:plc:a") != std::string::npos);
    CHECK(r.sink.frames[1].first == "{\"did\":\"did:plc:b\",\"time_us\":20,\"kind\":\"identity\"}");
    CHECK(r.sink.frames[2].first == "garbage line");  // passed on; the decoder counts it
    CHECK(r.sink.frames[3].second == frame_kind::jetstream_json);
}

TEST_CASE("file source: the start cursor skips earlier Jetstream events (inclusive)") {
    temp_dir dir;
    auto path = dir.path / "events.jsonl";
    write_file(path,
               "{\"did\":\"did:plc:a\",\"time_us\":10,\"kind\":\"identity\"}\n"
               "{\"did\":\"did:plc:b\",\"time_us\":20,\"kind\":\"identity\"}\n"
               "{\"did\":\"did:plc:c\",\"time_us\":30,\"kind\":\"identity\"}\n");
    replay r;
    r.cfg.file = path;
    r.start = 20;
    r.run();
    REQUIRE(r.sink.frames.size() == 2);
    CHECK(r.sink.frames[0].first.find("did:plc:b") != std::string::npos);
}

TEST_CASE("file source: recorded pace still replays everything (sub-millisecond deltas)") {
    temp_dir dir;
    auto path = dir.path / "events.jsonl";
    write_file(path,
               "{\"did\":\"did:plc:a\",\"time_us\":10,\"kind\":\"identity\"}\n"
               "{\"did\":\"did:plc:b\",\"time_us\":11,\"kind\":\"identity\"}\n"
               "{\"did\":\"did:plc:c\",\"time_us\":5,\"kind\":\"identity\"}\n");
    replay r;
    r.cfg.file = path;
    r.cfg.pace_recorded = true;
    r.run();
    CHECK(r.sink.frames.size() == 3);
}

TEST_CASE("file source: firehose records are split by their length prefix") {
    temp_dir dir;
    auto path = dir.path / "capture.bin";
    write_file(path, record("first") + record("") + record("third frame"));
    replay r;
    r.cfg.file = path;
    r.cfg.format = config::source_config::file_format::firehose;
    r.run();
    REQUIRE(r.sink.frames.size() == 3);
    CHECK(r.sink.frames[0].first == "first");
    CHECK(r.sink.frames[1].first.empty());
    CHECK(r.sink.frames[2].first == "third frame");
    CHECK(r.sink.frames[2].second == frame_kind::firehose);
}

TEST_CASE("file source: a truncated firehose capture ends at the last whole record") {
    temp_dir dir;
    auto path = dir.path / "capture.bin";
    auto bytes = record("one") + record("two") + record("three-is-cut");
    bytes.resize(bytes.size() - 4);
    write_file(path, bytes);
    replay r;
    r.cfg.file = path;
    r.cfg.format = config::source_config::file_format::firehose;
    r.run();
    REQUIRE(r.sink.frames.size() == 2);
    CHECK(r.sink.frames[1].first == "two");

    // A stray partial length prefix at the end.
    write_file(path, record("one") + std::string("\0\0", 2));
    replay r2;
    r2.cfg.file = path;
    r2.cfg.format = config::source_config::file_format::firehose;
    r2.run();
    CHECK(r2.sink.frames.size() == 1);
}

TEST_CASE("file source: a missing file finishes with nothing replayed") {
    temp_dir dir;
    replay r;
    r.cfg.file = dir.path / "does-not-exist.jsonl";
    r.run();
    CHECK(r.sink.frames.empty());
}

TEST_CASE("file source: the real firehose capture skips seq <= cursor") {
    replay r;
    r.cfg.file = std::filesystem::path(LABELER_FIXTURE_DIR) / "pds-firehose/firehose.bin";
    r.cfg.format = config::source_config::file_format::firehose;
    r.start = 100;
    r.run();
    CHECK(r.sink.frames.size() == 34);  // seq 101..134
    replay all;
    all.cfg.file = r.cfg.file;
    all.cfg.format = r.cfg.format;
    all.run();
    CHECK(all.sink.frames.size() == 134);
}
