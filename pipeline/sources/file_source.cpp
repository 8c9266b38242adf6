// file source: replays a capture file through the pipeline (kind = "file").
//
//   format "jetstream": JSON lines, one Jetstream event per line (empty lines skipped).
//   format "firehose":  records of a 4-byte big-endian length followed by one subscribeRepos
//                       frame (DAG-CBOR header + body), as the PDS/relay sent it.
//
// Runs on its own thread. The start cursor (resume_cursor() at start) skips earlier events:
// Jetstream time_us < cursor (Jetstream cursors are inclusive), firehose seq <= cursor.
// pace_recorded sleeps by the recorded event-time deltas (time_us / firehose `time`), else it
// runs at full speed (the sink's backpressure is the only brake). A garbled record is passed
// on and counted by the decoder; a length prefix running past the end of the file ends the
// replay with a warning. At the end finished() turns true; the process keeps serving.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>

#include "pipeline/decode.hpp"
#include "pipeline/sources/source.hpp"
#include "src/common/log.hpp"
#include "src/common/thread_name.hpp"

namespace labeler::pipeline {
namespace {

const labeler::logger log{"source"};

class file_source final : public source {
public:
    explicit file_source(source_context ctx) : ctx_(std::move(ctx)) {}
    ~file_source() override { stop(); }

    void start() override {
        thread_ = std::thread([this] {
            name_this_thread("source");
            run();
        });
    }

    void stop() override {
        {
            std::lock_guard lk(mu_);
            stopping_ = true;
        }
        cv_.notify_all();
        std::lock_guard lk(join_mu_);
        if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
    }

    bool finished() const override { return finished_.load(); }

private:
    bool stopping() {
        std::lock_guard lk(mu_);
        return stopping_;
    }

    // Recorded pace: waits until the wall-clock offset matches the event-time offset.
    // Returns false when stopped meanwhile.
    bool pace(std::int64_t time_us) {
        if (!ctx_.config.pace_recorded || time_us <= 0) return !stopping();
        auto now = std::chrono::steady_clock::now();
        if (!first_time_) {
            first_time_ = time_us;
            first_wall_ = now;
            return !stopping();
        }
        auto target = first_wall_ + std::chrono::microseconds(time_us - first_time_);
        std::unique_lock lk(mu_);
        cv_.wait_until(lk, target, [&] { return stopping_; });
        return !stopping_;
    }

    void run() {
        auto& cfg = ctx_.config;
        start_ = ctx_.resume_cursor();
        bool jetstream = cfg.format == config::source_config::file_format::jetstream;
        log.info("source file:{} (format {}, pace {}) connecting at cursor {} (reason: start)",
                 cfg.file.string(), jetstream ? "jetstream" : "firehose",
                 cfg.pace_recorded ? "recorded" : "full",
                 start_ ? std::to_string(*start_) : "none (from the beginning)");
        std::ifstream in(cfg.file, std::ios::binary);
        if (!in) {
            log.error("source file:{}: cannot open the file", cfg.file.string());
            finished_ = true;
            return;
        }
        if (jetstream) run_jetstream(in);
        else run_firehose(in);
        log.info("source file:{}: {} ({} records passed, {} skipped before the cursor)",
                 cfg.file.string(), stopping() ? "stopped" : "replay finished", passed_,
                 skipped_);
        finished_ = true;
    }

    void run_jetstream(std::ifstream& in) {
        std::string line;
        bool need_time = start_ || ctx_.config.pace_recorded;
        while (!stopping() && std::getline(in, line)) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (line.find_first_not_of(" \t") == std::string::npos) continue;
            if (need_time) {
                auto t = peek_time_us(line);
                if (t && start_ && *t < *start_) {
                    ++skipped_;
                    continue;
                }
                if (t && !pace(std::int64_t(*t))) return;
            }
            ctx_.sink.on_frame(line, frame_kind::jetstream_json);
            ++passed_;
        }
    }

    void run_firehose(std::ifstream& in) {
        auto& cfg = ctx_.config;
        firehose_decoder peeker(cfg.max_event_bytes);
        bool need_peek = start_ || cfg.pace_recorded;
        in.seekg(0, std::ios::end);
        const auto size = std::uint64_t(in.tellg());
        in.seekg(0);
        std::uint64_t offset = 0;
        std::string frame;
        while (!stopping() && offset < size) {
            unsigned char len_bytes[4];
            if (size - offset < 4) {
                log.warn("source file:{}: {} stray bytes at offset {} (truncated length prefix)",
                         cfg.file.string(), size - offset, offset);
                return;
            }
            in.read(reinterpret_cast<char*>(len_bytes), 4);
            std::uint64_t len = (std::uint64_t(len_bytes[0]) << 24) |
                                (std::uint64_t(len_bytes[1]) << 16) |
                                (std::uint64_t(len_bytes[2]) << 8) | std::uint64_t(len_bytes[3]);
            offset += 4;
            if (len > size - offset) {
                log.warn("source file:{}: record at offset {} claims {} bytes but only {} remain; "
                         "stopping the replay there", cfg.file.string(), offset - 4, len,
                         size - offset);
                return;
            }
            frame.resize(len);
            in.read(frame.data(), std::streamsize(len));
            offset += len;
            if (!in) {
                log.warn("source file:{}: read error at offset {}", cfg.file.string(), offset);
                return;
            }
            if (need_peek) {
                if (auto p = peeker.peek(frame)) {
                    if (start_ && p->has_cursor && p->cursor <= *start_) {
                        ++skipped_;
                        continue;
                    }
                    if (!pace(p->time_us)) return;
                }
            }
            ctx_.sink.on_frame(frame, frame_kind::firehose);
            ++passed_;
        }
    }

    source_context ctx_;
    std::thread thread_;
    std::mutex join_mu_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::atomic<bool> finished_{false};
    std::optional<std::uint64_t> start_;
    std::int64_t first_time_ = 0;
    std::chrono::steady_clock::time_point first_wall_;
    std::uint64_t passed_ = 0, skipped_ = 0;
};

}  // namespace

std::unique_ptr<source> make_file_source(source_context ctx) {
    return std::make_unique<file_source>(std::move(ctx));
}

}  // namespace labeler::pipeline
