#pragma once
// ingest: the source-thread half of the pipeline, a frame_sink. For each message it runs
// decode -> filter and pushes the kept events (as one frame) into the bounded queue, or a
// coalesced cursor-only marker when nothing was kept. A full queue blocks on_frame, which
// blocks the source's read loop (backpressure). Bad messages are counted by reason, never
// thrown. One instance per source thread (it owns the decoders' scratch buffers).
#include <string>
#include <vector>

#include "pipeline/decode.hpp"
#include "pipeline/filter.hpp"
#include "pipeline/probe.hpp"
#include "pipeline/queue.hpp"
#include "pipeline/sources/source.hpp"

namespace labeler::pipeline {

class ingest final : public frame_sink {
public:
    ingest(std::string labeler_did, std::size_t max_event_bytes, frame_queue& queue, probe& p);

    void on_frame(std::string_view payload, frame_kind kind) override;

private:
    jetstream_decoder jetstream_;
    firehose_decoder firehose_;
    event_filter filter_;
    frame_queue& queue_;
    probe& probe_;
    std::vector<event> scratch_;
};

}  // namespace labeler::pipeline
