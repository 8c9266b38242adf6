#include "pipeline/ingest.hpp"

#include "src/common/log.hpp"

namespace labeler::pipeline {
namespace {
const labeler::logger log{"pipeline"};
}

ingest::ingest(std::string labeler_did, std::size_t max_event_bytes, frame_queue& queue, probe& p)
    : jetstream_(max_event_bytes, true, labeler_did),
      firehose_(max_event_bytes),
      filter_(std::move(labeler_did)),
      queue_(queue),
      probe_(p) {}

void ingest::on_frame(std::string_view payload, frame_kind kind) {
    scratch_.clear();
    auto r = kind == frame_kind::jetstream_json ? jetstream_(payload, scratch_)
                                                : firehose_(payload, scratch_);
    if (!r) {
        probe_.decode_error(r.error().code);
        if (r.error().code == int(decode_errc::error_frame))
            log.warn("source sent an error frame: {}", r.error().message);
        else
            log.debug("dropped a message: {}", r.error().message);
        return;
    }
    probe_.event_received(r->kind);
    frame_item item;
    for (auto& ev : scratch_) {
        if (!filter_(ev)) continue;
        if (ev.kind == event_kind::follow_create) probe_.follow_matched();
        item.events.push_back(std::move(ev));
    }
    if (item.events.empty()) {
        queue_.push_marker(r->cursor, r->has_cursor, r->time_us);
        return;
    }
    item.cursor = r->cursor;
    item.has_cursor = r->has_cursor;
    item.time_us = r->time_us;
    queue_.push(std::move(item));
    probe_.queue_depth(double(queue_.size()));
}

}  // namespace labeler::pipeline
