#pragma once
// Decode stages: one source message in, normalized events out. Pure function objects: no I/O,
// no clock, no globals; each owns reusable scratch (parser, buffers), so one instance per thread.
//
// Untrusted input never throws out of a stage: a bad message yields an error whose code is a
// decode_errc (reason label of labeler_pipeline_decode_errors_total) and whose message says
// what was wrong. Events already appended to `out` by a failed call must be discarded by the
// caller (the decoders clear what they appended on failure).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/event.hpp"
#include "src/common/result.hpp"

namespace labeler::pipeline {

enum class decode_errc : int {
    oversize = 1,     // larger than source.max_event_bytes
    malformed = 2,    // not JSON / not DAG-CBOR
    schema = 3,       // a required field is missing, has the wrong type or an invalid value
    car = 4,          // firehose: the blocks CAR does not parse or a block fails its hash check
    record = 5,       // firehose: the op's record is missing from the CAR or does not decode
    error_frame = 6,  // firehose: the server sent an error frame (op = -1)
};
inline constexpr int decode_errc_count = 7;
// Label value for the metric ("oversize", "malformed", ...); "other" for unknown codes.
std::string_view reason_name(int code);

// What kind of message was decoded (label of labeler_pipeline_events_total).
enum class message_kind : std::uint8_t {
    follow,        // a commit touching app.bsky.graph.follow
    commit_other,  // a commit of another collection only (ignored)
    account,
    identity,
    sync,
    info,
    unknown,       // unknown kind / `t`: ignored
};
inline constexpr int message_kind_count = 7;
std::string_view kind_name(message_kind k);

struct decoded {
    message_kind kind = message_kind::unknown;
    std::uint64_t cursor = 0;   // time_us (Jetstream) or seq (firehose); valid when has_cursor
    bool has_cursor = false;
    std::int64_t time_us = 0;   // event time in µs since the epoch; 0 = unknown
};

// Jetstream v1/v2 JSON events (simdjson On-Demand, one reused parser and padded buffer).
// Unknown fields are ignored (so is v2's top-level `cursor`); commits of other collections are
// decoded only far enough to know that (kind commit_other, no events). With `prefilter` (the
// default) a compact commit/identity event that mentions neither app.bsky.graph.follow nor an
// "account" key is classified from its bytes without a full parse (see docs/pipeline.md); such
// events are never validated beyond looking like one whole object. With `keep_subject` (the
// labeler DID) the pre-filter also classifies a follow create/update whose bytes do not contain
// that DID: kind follow, no event (the filter would drop it anyway).
class jetstream_decoder {
public:
    explicit jetstream_decoder(std::size_t max_event_bytes = 2u << 20, bool prefilter = true,
                               std::string keep_subject = {});
    ~jetstream_decoder();
    jetstream_decoder(jetstream_decoder&&) noexcept;
    jetstream_decoder& operator=(jetstream_decoder&&) noexcept;

    // Decodes one event; appends 0 or 1 events to `out`.
    result<decoded> operator()(std::string_view json, std::vector<event>& out);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// The relay firehose (com.atproto.sync.subscribeRepos): one frame = DAG-CBOR header + body.
// #commit: one event per op on app.bsky.graph.follow/<rkey>, in op order; create/update read
// the record's `subject` from the blocks CAR (every block's hash verified). #account ->
// account_change; #identity/#sync/#info -> no events; unknown `t` ignored; an error frame
// (op = -1) is returned as decode_errc::error_frame naming the error.
class firehose_decoder {
public:
    explicit firehose_decoder(std::size_t max_event_bytes = 2u << 20);
    ~firehose_decoder();
    firehose_decoder(firehose_decoder&&) noexcept;
    firehose_decoder& operator=(firehose_decoder&&) noexcept;

    // Decodes one frame; appends its events to `out`.
    result<decoded> operator()(std::string_view frame, std::vector<event>& out);
    // Reads only the header and the body's `seq` and `time` (for skipping and pacing replays).
    result<decoded> peek(std::string_view frame);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// The top-level time_us of a Jetstream event without parsing it: the first `"time_us":` key
// (Jetstream writes it before `commit`, and a quote inside a JSON string is escaped, so this
// finds the top-level key). nullopt when absent. For file replays (skip, pace) only.
std::optional<std::uint64_t> peek_time_us(std::string_view json);

// Maps a Jetstream/firehose account status string (absent = "") and the active flag.
// Sets ev.active/status/transient.
void set_account_status(event& ev, bool active, std::string_view status);

}  // namespace labeler::pipeline
