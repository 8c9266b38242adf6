#pragma once
// Normalized source events: what the decoders produce and the writer consumes.
//
// One source message (a Jetstream line, a firehose frame) becomes zero or more events; a firehose
// #commit expands to one event per follow op, in op order (a PDS that replaces a duplicate follow
// emits [delete old, create new] in one commit). The queue carries whole frames (frame_item) so
// that a frame's events are decided together and the cursor never points into a frame.
#include <cstdint>
#include <string>
#include <vector>

#include "storage/types.hpp"

namespace labeler::pipeline {

enum class event_kind : std::uint8_t {
    follow_create,   // did created (or updated) follow record rkey -> subject
    follow_delete,   // did deleted follow record rkey (the subject is not in the event)
    account_change,  // did's hosting status changed
};

struct event {
    event_kind kind = event_kind::follow_create;
    std::string did;      // the repo / account the event is about (the follower)
    std::string rkey;     // follow_*: record key
    std::string subject;  // follow_create: the followed DID
    // account_change: active flag and status. `transient` = a status that is not user state
    // (desynchronized, throttled): the filter drops it.
    bool active = true;
    storage::account_status status = storage::account_status::active;
    bool transient = false;
};

// One source message's worth of kept events, plus its position. A frame with no events is a
// cursor-only marker: the source moved on without anything for the writer (filtered out).
struct frame_item {
    std::vector<event> events;
    std::uint64_t cursor = 0;   // Jetstream time_us / firehose seq; valid when has_cursor
    bool has_cursor = false;
    std::int64_t time_us = 0;   // event time (Jetstream time_us, firehose `time`); 0 = unknown
};

}  // namespace labeler::pipeline
