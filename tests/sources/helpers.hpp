#pragma once
// Shared helpers for the source tests: a recording frame_sink, a source_config builder and a
// metric reader.
#include <prometheus/registry.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/sources/source.hpp"

namespace labeler::testing {

// Records every frame; wait_for() blocks on a condition variable (no sleeps).
class recording_sink : public pipeline::frame_sink {
public:
    void on_frame(std::string_view payload, pipeline::frame_kind kind) override {
        {
            std::lock_guard lk(mu_);
            frames_.emplace_back(std::string(payload), kind);
        }
        cv_.notify_all();
    }
    bool wait_for(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
        std::unique_lock lk(mu_);
        return cv_.wait_for(lk, timeout, [&] { return frames_.size() >= n; });
    }
    std::vector<std::pair<std::string, pipeline::frame_kind>> frames() const {
        std::lock_guard lk(mu_);
        return frames_;
    }
    std::size_t size() const {
        std::lock_guard lk(mu_);
        return frames_.size();
    }

private:
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::pair<std::string, pipeline::frame_kind>> frames_;
};

inline config::source_config make_source_config(std::vector<std::string> urls) {
    config::source_config c;
    c.urls = std::move(urls);
    c.backoff_initial = std::chrono::milliseconds(1);
    c.backoff_max = std::chrono::milliseconds(20);
    c.rewind = std::chrono::seconds(0);
    return c;
}

// Sum of the samples of counter/gauge family `name` whose labels include (key, value)
// (all samples when key is empty).
inline double metric_value(prometheus::Registry& reg, const std::string& name,
                           const std::string& key = {}, const std::string& value = {}) {
    double sum = 0;
    for (auto& fam : reg.Collect()) {
        if (fam.name != name) continue;
        for (auto& m : fam.metric) {
            bool match = key.empty();
            for (auto& l : m.label)
                if (l.name == key && l.value == value) match = true;
            if (!match) continue;
            sum += fam.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
        }
    }
    return sum;
}

// A port on 127.0.0.1 where nothing listens (bound, then released).
std::uint16_t dead_port();

}  // namespace labeler::testing
