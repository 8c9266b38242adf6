#include "pipeline/pipeline.hpp"

#include <atomic>
#include <mutex>
#include <random>
#include <thread>

#include "pipeline/ingest.hpp"
#include "pipeline/probe.hpp"
#include "pipeline/queue.hpp"
#include "pipeline/sources/source.hpp"
#include "pipeline/writer.hpp"
#include "src/common/log.hpp"
#include "src/common/thread_name.hpp"

namespace labeler::pipeline {
namespace {

const labeler::logger log{"pipeline"};

// A run of cursor-only batches is committed at most this often (the labels' batches are not
// delayed): the cursor advances without one WAL sync per ignored event.
constexpr std::chrono::milliseconds cursor_commit_interval{200};

decider make_decider(const config::profile& p, std::optional<std::uint64_t> seed) {
    std::vector<weighted_value> values;
    for (auto& v : p.values) values.push_back({v.id, v.weight});
    auto rng = std::make_shared<std::mt19937_64>(seed ? *seed : std::random_device{}());
    return decider(std::move(values), [rng] { return (*rng)(); });
}

std::string_view kind_text(config::source_config::kind_t k) {
    switch (k) {
        case config::source_config::kind_t::jetstream: return "jetstream";
        case config::source_config::kind_t::firehose: return "firehose";
        case config::source_config::kind_t::file: return "file";
    }
    return "?";
}

}  // namespace

std::string pipeline::source_key(const config::source_config& s) {
    switch (s.kind) {
        case config::source_config::kind_t::jetstream: return "jetstream";
        case config::source_config::kind_t::firehose: return "firehose";
        case config::source_config::kind_t::file:
            return "file:" + s.file.lexically_normal().generic_string();
    }
    return "unknown";
}

struct pipeline::impl {
    pipeline_deps deps;
    std::optional<std::uint64_t> start_cursor;
    probe metrics;
    frame_queue queue;
    writer write;
    ingest in;
    std::unique_ptr<source> src;
    std::thread writer_thread;
    std::atomic<bool> running{false};
    std::atomic<bool> failed{false};
    std::once_flag stop_once;
    std::mutex resume_mu;
    bool first_connect = true;

    impl(pipeline_deps d, std::optional<std::uint64_t> start)
        : deps(d),
          start_cursor(start ? start : d.profile.source.cursor),
          metrics(d.metrics),
          queue(d.profile.pipeline.queue_capacity),
          write(d.store, d.sink, d.key, d.profile.labeler_did, source_key(d.profile.source),
                make_decider(d.profile, d.rng_seed), &metrics),
          in(d.profile.labeler_did, d.profile.source.max_event_bytes, queue, metrics) {
        write.on_failure([this](const error& e) { fail(e); });
    }

    std::optional<std::uint64_t> resume_cursor() {
        std::lock_guard lk(resume_mu);
        bool first = std::exchange(first_connect, false);
        if (first && start_cursor) return start_cursor;
        if (auto p = write.position()) return p;
        return start_cursor;
    }

    void writer_loop() {
        std::vector<frame_item> items;
        auto last_commit = std::chrono::steady_clock::now() - cursor_commit_interval;
        const std::size_t batch_max = std::max<std::size_t>(deps.profile.pipeline.batch_max, 1);
        while (true) {
            items.clear();
            if (!queue.pop(items, batch_max)) break;
            bool markers_only = std::all_of(items.begin(), items.end(),
                                            [](auto& f) { return f.events.empty(); });
            if (markers_only) {
                auto due = last_commit + cursor_commit_interval;
                if (std::chrono::steady_clock::now() < due) queue.wait_for_events(due);
                queue.try_pop(items, batch_max - items.size());
            }
            metrics.queue_depth(double(queue.size()));
            auto r = write.process(items, std::chrono::system_clock::now());
            if (!r) {
                fail(r.error());
                write.finish();
                return;
            }
            last_commit = std::chrono::steady_clock::now();
        }
        write.finish();  // the last batches are written and published before the loop ends
        running = false;
    }

    // A batch could not be committed: nothing more can be, so stop reading. Runs on the writer
    // thread or (for a failed write) on the store's commit thread; the first call reports.
    void fail(const error& e) {
        if (failed.exchange(true)) return;
        auto why = "commit failed: " + e.message;
        log.error("{}; the pipeline stops (restart to resume from the last cursor)", why);
        deps.health.set_pipeline_ok(false, why);
        queue.close();
        running = false;
        if (src) src->stop();
    }
};

pipeline::pipeline(pipeline_deps deps, std::optional<std::uint64_t> start_cursor)
    : impl_(std::make_unique<impl>(deps, start_cursor)) {}

pipeline::~pipeline() { stop(); }

void pipeline::start() {
    auto& m = *impl_;
    auto& cfg = m.deps.profile.source;
    source_context ctx{cfg, m.in, [&m] { return m.resume_cursor(); }, m.deps.metrics};
    switch (cfg.kind) {
        case config::source_config::kind_t::jetstream: m.src = make_jetstream_source(ctx); break;
        case config::source_config::kind_t::firehose: m.src = make_firehose_source(ctx); break;
        case config::source_config::kind_t::file: m.src = make_file_source(ctx); break;
    }
    auto stored = m.write.committed_cursor();
    log.info("pipeline starting: source {} (key \"{}\"), stored cursor {}, start cursor {}",
             kind_text(cfg.kind), m.write.source_key(),
             stored ? std::to_string(*stored) : "none",
             m.start_cursor ? std::to_string(*m.start_cursor) : "none");
    m.deps.health.set_pipeline_ok(true);
    m.running = true;
    m.writer_thread = std::thread([&m] {
        name_this_thread("writer");
        m.writer_loop();
    });
    m.src->start();
}

void pipeline::stop() {
    auto& m = *impl_;
    std::call_once(m.stop_once, [&m] {
        if (m.src) m.src->stop();
        m.queue.close();  // the writer drains what was decoded, commits, and exits
        if (m.writer_thread.joinable()) m.writer_thread.join();
        if (m.src) log.info("pipeline stopped at cursor {}",
                            m.write.position() ? std::to_string(*m.write.position()) : "none");
    });
}

bool pipeline::source_finished() const { return impl_->src && impl_->src->finished(); }

bool pipeline::running() const { return impl_->running; }

}  // namespace labeler::pipeline
