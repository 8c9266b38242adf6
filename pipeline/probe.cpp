#include "pipeline/probe.hpp"

#include <string>

namespace labeler::pipeline {

probe::probe(prometheus::Registry& r) {
    using namespace prometheus;
    auto& events = BuildCounter()
                       .Name("labeler_pipeline_events_total")
                       .Help("Source messages received, by kind")
                       .Register(r);
    for (int k = 0; k < message_kind_count; ++k)
        events_[k] = &events.Add({{"kind", std::string(kind_name(message_kind(k)))}});
    auto& errors = BuildCounter()
                       .Name("labeler_pipeline_decode_errors_total")
                       .Help("Source messages that could not be used, by reason")
                       .Register(r);
    for (int c = 0; c < decode_errc_count; ++c)
        decode_errors_[c] = &errors.Add({{"reason", std::string(reason_name(c))}});
    follows_matched_ = &BuildCounter()
                            .Name("labeler_pipeline_follows_matched_total")
                            .Help("New follow records of the labeler")
                            .Register(r)
                            .Add({});
    labels_issued_ = &BuildCounter()
                          .Name("labeler_pipeline_labels_issued_total")
                          .Help("Labels issued by the pipeline")
                          .Register(r)
                          .Add({});
    labels_negated_ = &BuildCounter()
                           .Name("labeler_pipeline_labels_negated_total")
                           .Help("Labels negated by the pipeline")
                           .Register(r)
                           .Add({});
    replays_skipped_ = &BuildCounter()
                            .Name("labeler_pipeline_replays_skipped_total")
                            .Help("Events at or before the committed cursor that were not re-applied")
                            .Register(r)
                            .Add({});
    commits_ = &BuildCounter()
                    .Name("labeler_pipeline_commits_total")
                    .Help("Write batches committed by the pipeline")
                    .Register(r)
                    .Add({});
    source_lag_ = &BuildGauge()
                       .Name("labeler_pipeline_source_lag_seconds")
                       .Help("Wall clock minus the time of the last event committed")
                       .Register(r)
                       .Add({});
    queue_depth_ = &BuildGauge()
                        .Name("labeler_pipeline_queue_depth")
                        .Help("Frames waiting between the source and the writer")
                        .Register(r)
                        .Add({});
    cursor_ = &BuildGauge()
                   .Name("labeler_pipeline_cursor")
                   .Help("Last committed source cursor (time_us or seq)")
                   .Register(r)
                   .Add({});
    batch_size_ = &BuildHistogram()
                       .Name("labeler_pipeline_batch_size")
                       .Help("Frames per committed write batch")
                       .Register(r)
                       .Add({}, Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128, 256,
                                                            512, 1024, 4096});
}

}  // namespace labeler::pipeline
