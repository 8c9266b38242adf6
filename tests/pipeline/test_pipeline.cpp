// The whole pipeline class in process: the file source replays the development sample
// (config/samples/development.jsonl) into a real store; the final labels must be exactly the
// ones development.expected.json lists, and a restart must add nothing.
#include <catch2/catch.hpp>

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <simdjson.h>

#include "pipeline/pipeline.hpp"
#include "tests/pipeline/support.hpp"

using namespace labeler;
using labeler::pipeline::pipeline;
using namespace labeler::pipeline::test;

namespace {

const std::filesystem::path samples = std::filesystem::path(LABELER_SOURCE_DIR) / "config/samples";

struct expected_outcome {
    std::string labeler;
    std::vector<std::string> holders, not_holders;
    std::size_t issued = 0, negated = 0;
    std::uint64_t last_time_us = 0;
};

expected_outcome load_expected() {
    simdjson::dom::parser parser;
    auto doc = parser.load((samples / "development.expected.json").string());
    expected_outcome e;
    e.labeler = std::string(std::string_view(doc["labeler"]));
    for (auto d : doc["holders"].get_array()) e.holders.emplace_back(std::string_view(d));
    for (auto d : doc["not_holders"].get_array()) e.not_holders.emplace_back(std::string_view(d));
    e.issued = std::size_t(std::uint64_t(doc["labels_issued"]));
    e.negated = std::size_t(std::uint64_t(doc["labels_negated"]));
    e.last_time_us = std::uint64_t(doc["last_time_us"]);
    return e;
}

config::profile sample_profile(const std::string& did) {
    auto p = make_profile(did);
    p.source.kind = config::source_config::kind_t::file;
    p.source.file = samples / "development.jsonl";
    p.pipeline.queue_capacity = 8;
    p.pipeline.batch_max = 4;
    return p;
}

std::string metrics_text(prometheus::Registry& reg) {
    return prometheus::TextSerializer().Serialize(reg.Collect());
}

}  // namespace

TEST_CASE("pipeline: the development sample yields exactly the expected labels") {
    auto want = load_expected();
    temp_dir dir;
    auto store = open_store(dir.path, want.labeler);
    auto profile = sample_profile(want.labeler);
    collecting_sink sink;
    prometheus::Registry reg;
    health h;
    h.set_store_open(true);
    {
        labeler::pipeline::pipeline p({profile, *store, sink, test_key(), reg, h, 1234}, std::nullopt);
        CHECK_FALSE(p.source_finished());
        p.start();
        wait_until([&] { return p.source_finished(); });
        p.stop();
        CHECK_FALSE(p.running());
    }
    CHECK(h.ready());
    for (auto& d : want.holders) CHECK(held(*store, d).size() == 1);
    for (auto& d : want.not_holders) CHECK(held(*store, d).empty());
    auto log = read_all(*store);
    std::size_t issued = 0, negated = 0;
    for (auto& l : log) {
        CHECK(l.src == want.labeler);
        (l.neg ? negated : issued)++;
    }
    CHECK(issued == want.issued);
    CHECK(negated == want.negated);
    CHECK(sink.size() == log.size());
    auto key = labeler::pipeline::pipeline::source_key(profile.source);
    CHECK(store->cursor(key) == std::optional<std::uint64_t>(want.last_time_us));

    auto text = metrics_text(reg);
    CHECK(text.find("labeler_pipeline_labels_issued_total " + std::to_string(want.issued)) !=
          std::string::npos);
    CHECK(text.find("labeler_pipeline_decode_errors_total{reason=\"malformed\"} 1") !=
          std::string::npos);
    CHECK(text.find("labeler_pipeline_follows_matched_total") != std::string::npos);
    CHECK(text.find("labeler_pipeline_batch_size_count") != std::string::npos);

    // Restart on the same store: the stored cursor skips everything; nothing new.
    auto seq = store->last_seq();
    {
        prometheus::Registry reg2;
        labeler::pipeline::pipeline p({profile, *store, sink, test_key(), reg2, h, 99}, std::nullopt);
        p.start();
        wait_until([&] { return p.source_finished(); });
        p.stop();
    }
    CHECK(store->last_seq() == seq);

    // An explicit --cursor from the beginning replays every event: still nothing new.
    {
        prometheus::Registry reg3;
        labeler::pipeline::pipeline p({profile, *store, sink, test_key(), reg3, h, 7}, std::uint64_t(1));
        p.start();
        wait_until([&] { return p.source_finished(); });
        p.stop();
        auto t = metrics_text(reg3);
        CHECK(t.find("labeler_pipeline_replays_skipped_total 0") == std::string::npos);
    }
    CHECK(store->last_seq() == seq);
    for (auto& d : want.holders) CHECK(held(*store, d).size() == 1);
    CHECK(store->cursor(key) == std::optional<std::uint64_t>(want.last_time_us));
}

TEST_CASE("pipeline: stop() before start() and twice is harmless") {
    auto want = load_expected();
    temp_dir dir;
    auto store = open_store(dir.path, want.labeler);
    auto profile = sample_profile(want.labeler);
    collecting_sink sink;
    prometheus::Registry reg;
    health h;
    labeler::pipeline::pipeline p({profile, *store, sink, test_key(), reg, h}, std::nullopt);
    p.stop();
    p.stop();
    CHECK_FALSE(p.source_finished());
    CHECK(store->last_seq() == 0);
}

TEST_CASE("pipeline: source keys name the source") {
    config::source_config s;
    CHECK(labeler::pipeline::pipeline::source_key(s) == "jetstream");
    s.kind = config::source_config::kind_t::firehose;
    CHECK(labeler::pipeline::pipeline::source_key(s) == "firehose");
    s.kind = config::source_config::kind_t::file;
    s.file = "config/./samples/development.jsonl";
    CHECK(labeler::pipeline::pipeline::source_key(s) == "file:config/samples/development.jsonl");
}
