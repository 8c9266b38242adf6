#pragma once
// probe: the pipeline's Prometheus metrics, built from an injected registry (no singletons).
// Metric objects are created once here; the hot path only touches cached pointers (atomic
// adds). Thread-safe: the source thread and the writer thread both update it.
#include <array>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "pipeline/decode.hpp"

namespace labeler::pipeline {

class probe {
public:
    explicit probe(prometheus::Registry& registry);

    void event_received(message_kind k) { events_[std::size_t(k)]->Increment(); }
    void decode_error(int code) {
        auto i = code > 0 && code < decode_errc_count ? code : 0;
        decode_errors_[std::size_t(i)]->Increment();
    }
    void follow_matched(double n = 1) { follows_matched_->Increment(n); }
    void labels_issued(double n) { labels_issued_->Increment(n); }
    void labels_negated(double n) { labels_negated_->Increment(n); }
    void replays_skipped(double n) { replays_skipped_->Increment(n); }
    void source_lag(double seconds) { source_lag_->Set(seconds); }
    void queue_depth(double n) { queue_depth_->Set(n); }
    void batch(double events) { batch_size_->Observe(events); commits_->Increment(); }
    void cursor(double c) { cursor_->Set(c); }

private:
    std::array<prometheus::Counter*, message_kind_count> events_{};
    std::array<prometheus::Counter*, decode_errc_count> decode_errors_{};  // [0] = "other"
    prometheus::Counter* follows_matched_;
    prometheus::Counter* labels_issued_;
    prometheus::Counter* labels_negated_;
    prometheus::Counter* replays_skipped_;
    prometheus::Counter* commits_;
    prometheus::Gauge* source_lag_;
    prometheus::Gauge* queue_depth_;
    prometheus::Gauge* cursor_;
    prometheus::Histogram* batch_size_;
};

}  // namespace labeler::pipeline
