// bench_ingest: Jetstream events/s end to end on this machine, printed as lines of text.
//
// An in-process fake Jetstream (tests/e2e/fake_jetstream, its own thread, frames written in
// 256 KiB batches) streams --events generated events (default 1,000,000; --follow-pct of them,
// default 5, are follows of the labeler by distinct accounts, the rest follows of other
// accounts and likes) over a loopback WebSocket into the real pipeline class: Jetstream source
// -> decode -> filter -> bounded queue -> decide/sign/commit into a RocksDB store in a mkdtemp
// folder -> publish. The clock runs from the source's first connection until the label of the
// last event (always a follow) is published. Peak RSS is the process's VmHWM (fake included;
// the script is generated on the fly, never held in memory).
// Usage: bench_ingest [--events N] [--follow-pct P] [--queue N] [--batch N]
#include <fmt/format.h>
#include <prometheus/registry.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "pipeline/pipeline.hpp"
#include "src/atproto/crypto.hpp"
#include "src/common/health.hpp"
#include "src/common/log.hpp"
#include "src/config/profile.hpp"
#include "storage/label_sink.hpp"
#include "storage/label_store.hpp"
#include "tests/e2e/fake_jetstream.hpp"

using namespace labeler;
using clock_type = std::chrono::steady_clock;

namespace {

struct counting_sink final : storage::label_sink {
    std::atomic<std::uint64_t> labels{0};
    void publish(std::vector<storage::shared_entry> e) override { labels += e.size(); }
};

long vm_hwm_kib() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
    return -1;
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t events = 1'000'000, follow_pct = 5, queue = 4096, batch = 1024;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        std::size_t v = std::strtoull(argv[i + 1], nullptr, 10);
        if (a == "--events") events = v;
        else if (a == "--follow-pct") follow_pct = v;
        else if (a == "--queue") queue = v;
        else if (a == "--batch") batch = v;
        else {
            std::fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    set_log_level("warn");
    std::string tmpl = (std::filesystem::temp_directory_path() / "bench-ingest-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) return 1;
    std::filesystem::path dir = tmpl;

    const std::string labeler_did = "did:plc:benchlabelerxxxxxxxxxxxxx";
    constexpr std::uint64_t t0 = 1'764'000'000'000'000;
    // Event i is a follow of the labeler when i % 100 < follow_pct (and always the last one).
    auto is_follow = [&](std::size_t i) { return i % 100 < follow_pct || i + 1 == events; };
    std::uint64_t expected_labels = 0;
    for (std::size_t i = 0; i < events; ++i) expected_labels += is_follow(i);

    // The three kinds of event as templates with fixed-width number slots ('#'), filled in
    // place per event: the fake server is on the same two cores as the pipeline, so it should
    // cost as little as possible (fmt::format_to per event was ~8% of all CPU).
    struct event_template {
        std::string text;
        std::vector<std::pair<std::size_t, std::size_t>> slots;  // (offset, width)
    };
    auto make_template = [](std::string text) {
        event_template t{std::move(text), {}};
        for (std::size_t i = 0; i < t.text.size();) {
            if (t.text[i] != '#') {
                ++i;
                continue;
            }
            std::size_t j = i;
            while (j < t.text.size() && t.text[j] == '#') ++j;
            t.slots.emplace_back(i, j - i);
            i = j;
        }
        return t;
    };
    const std::string hash24(24, '#'), hash16(16, '#');
    const std::string head = R"({"did":"did:plc:)";
    const std::string mid = R"(,"kind":"commit","commit":{"rev":"3l3qo2vutsw2b",)";
    const std::string cid = R"("cid":"bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi")";
    const event_template follow_us = make_template(
        head + "f" + hash24 + R"(","time_us":)" + hash16 + mid +
        R"("operation":"create","collection":"app.bsky.graph.follow","rkey":"3l3qo2vuowo2b",)"
        R"("record":{"$type":"app.bsky.graph.follow","createdAt":"2026-11-29T10:00:00.000Z",)"
        R"("subject":")" + labeler_did + R"("},)" + cid + "}}");
    const event_template follow_other = make_template(
        head + "o" + hash24 + R"(","time_us":)" + hash16 + mid +
        R"("operation":"create","collection":"app.bsky.graph.follow","rkey":"3l3qo2vuowo2b",)"
        R"("record":{"$type":"app.bsky.graph.follow","createdAt":"2026-11-29T10:00:00.000Z",)"
        R"("subject":"did:plc:p)" + hash24 + R"("},)" + cid + "}}");
    const event_template like = make_template(
        head + "o" + hash24 + R"(","time_us":)" + hash16 + mid +
        R"("operation":"create","collection":"app.bsky.feed.like","rkey":"3l3qo2vuowo2b",)"
        R"("record":{"$type":"app.bsky.feed.like","createdAt":"2026-11-29T10:00:00.000Z",)"
        R"("subject":{"uri":"at://did:plc:abc/app.bsky.feed.post/3l3qo2vuowo2b",)" + cid + "}},"
        + cid + "}}");
    auto fill = [](std::string& out, const event_template& t,
                   std::initializer_list<std::uint64_t> values) {
        out.assign(t.text);
        auto v = values.begin();
        for (auto [at, width] : t.slots) {
            std::uint64_t x = *v++;
            for (std::size_t k = width; k-- > 0; x /= 10) out[at + k] = char('0' + x % 10);
        }
    };

    testing::fake_jetstream fake;
    fake.set_generator(events, [&](std::size_t i, testing::scripted_frame& f) {
        f.key = t0 + i;
        f.binary = false;
        if (is_follow(i)) fill(f.payload, follow_us, {i, t0 + i});
        else if (i % 2) fill(f.payload, follow_other, {i, t0 + i, i / 7});
        else fill(f.payload, like, {i, t0 + i});
    });

    auto key = atproto::private_key::generate();
    storage::store_options so;
    so.path = dir / "data";
    so.expected = {"bench", labeler_did, key.did_key()};
    auto store = storage::label_store::open(so);
    if (!store) {
        std::fprintf(stderr, "store: %s\n", store.error().message.c_str());
        return 1;
    }
    config::profile p;
    p.environment = "bench";
    p.labeler_did = labeler_did;
    p.values = {{"daikichi", 1, {{"en", "Excellent luck", "d"}}},
                {"kichi", 3, {{"en", "Good luck", "d"}}},
                {"kyo", 1, {{"en", "Bad luck", "d"}}}};
    p.source.kind = config::source_config::kind_t::jetstream;
    p.source.urls = {fake.url()};
    p.pipeline.queue_capacity = queue;
    p.pipeline.batch_max = batch;
    counting_sink sink;
    prometheus::Registry registry;
    labeler::health health;
    health.set_store_open(true);
    auto pl = std::make_unique<pipeline::pipeline>(
        pipeline::pipeline_deps{p, **store, sink, key, registry, health, 1}, std::nullopt);
    pl->start();
    fake.wait_connections(1, std::chrono::seconds(30));
    auto start = clock_type::now();
    auto deadline = start + std::chrono::minutes(10);
    while (sink.labels.load() < expected_labels && health.ready() && clock_type::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    auto secs = std::chrono::duration<double>(clock_type::now() - start).count();
    pl->stop();
    std::printf("jetstream end to end: %zu events (%llu follows of the labeler) in %.2f s = %.0f "
                "events/s; labels published %llu; peak RSS %.1f MiB; queue %zu, batch %zu\n",
                events, (unsigned long long)expected_labels, secs, double(events) / secs,
                (unsigned long long)sink.labels.load(), double(vm_hwm_kib()) / 1024.0, queue, batch);
    pl.reset();  // the pipeline refers to the store
    store->reset();
    std::filesystem::remove_all(dir);
    return sink.labels.load() == expected_labels ? 0 : 1;
}
