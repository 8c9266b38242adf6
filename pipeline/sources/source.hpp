#pragma once
// source: where raw events come from (Jetstream, relay firehose, or a capture file).
//
// A source owns its socket/file and its thread(s). It hands every received message, in order,
// to a frame_sink on its own thread. The sink may block while the pipeline's queue is full:
// that blocks the source's read loop, so backpressure reaches TCP and nothing piles up in
// memory. A network source reconnects by itself (backoff with jitter, URL failover), asking
// `resume_cursor` where to resume each time; it logs source, cursor and reason on every
// (re)connect and counts reconnects by reason.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "pipeline/sources/ws_client.hpp"
#include "src/config/profile.hpp"

namespace prometheus { class Registry; }

namespace labeler::pipeline {

enum class frame_kind {
    jetstream_json,  // one Jetstream event, JSON text (zstd frames are decompressed by the source)
    firehose,        // one subscribeRepos message: DAG-CBOR header + body
};

class frame_sink {
public:
    virtual ~frame_sink() = default;
    // Called on the source's thread for each message, in arrival order. `payload` is valid only
    // during the call. May block (backpressure). Must not throw.
    virtual void on_frame(std::string_view payload, frame_kind kind) = 0;
};

struct source_context {
    const config::source_config& config;
    frame_sink& sink;
    // Where to resume at each (re)connect: the last committed cursor, or the explicit start
    // cursor before anything was committed; nullopt = live tail. Thread-safe.
    std::function<std::optional<std::uint64_t>()> resume_cursor;
    prometheus::Registry& metrics;
};

class source {
public:
    virtual ~source() = default;
    virtual void start() = 0;            // starts the source's thread; returns at once
    virtual void stop() = 0;             // thread-safe, idempotent; returns when the thread ended
    virtual bool finished() const = 0;   // a file source that reached the end; network: false
};

// The WebSocket client settings a network source takes from its config.
inline ws::client_options client_options_for(const config::source_config& c, std::string kind) {
    ws::client_options o;
    o.kind = std::move(kind);
    o.urls = c.urls;
    o.ca_file = c.ca_file.value_or(std::filesystem::path());
    o.max_message_bytes = c.max_event_bytes;
    o.backoff_initial = c.backoff_initial;
    o.backoff_max = c.backoff_max;
    return o;
}

std::unique_ptr<source> make_jetstream_source(source_context ctx);
std::unique_ptr<source> make_firehose_source(source_context ctx);
std::unique_ptr<source> make_file_source(source_context ctx);

}  // namespace labeler::pipeline
