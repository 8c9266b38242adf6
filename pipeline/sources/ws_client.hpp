#pragma once
// ws_client: the reconnecting WebSocket client shared by the Jetstream and firehose sources.
//
// Owns one io_context and one thread; a single coroutine on it connects (ws:// or wss://,
// TLS with SNI and certificate verification against the system CA store), reads messages and
// hands each complete one to a message_handler, synchronously (the handler may block: that
// stops the read loop, so backpressure reaches TCP). Messages larger than `max_message_bytes`
// are read in pieces and discarded without buffering them whole (counted, connection kept).
// On any failure it reconnects with exponential backoff and full jitter, rotating through the
// configured URLs, and logs one line per (re)connect with the source kind, URL, cursor and
// reason. Metrics (labeler_source_*) are registered in the injected registry.
// wss:// servers must present a certificate for the URL's host that chains to the system CA
// store or to client_options::ca_file.
// stop() is thread-safe and idempotent; it interrupts a blocked read at once (but not a
// handler call that is blocked: the handler's owner must unblock it).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/common/result.hpp"

namespace prometheus { class Registry; }

namespace labeler::pipeline::ws {

using query_param = std::pair<std::string, std::string>;

// A parsed ws:// or wss:// URL with query parameters appended.
struct endpoint {
    bool tls = false;
    std::string host;     // without brackets for IPv6 literals
    std::string port;     // explicit or the scheme default ("80" / "443")
    std::string target;   // path (default "/") and query, as sent in the handshake
    std::string host_header;  // host[:port] for the Host header (port only when not default)
    std::string url;      // the complete URL, for logs
};

// Parses `url` (ws:// or wss:// only), keeps its path and existing query, and appends `params`
// percent-encoded. Errors name the URL and the problem.
result<endpoint> make_endpoint(std::string_view url, std::span<const query_param> params);

// What the handler wants after a message.
struct verdict {
    bool reconnect = false;
    std::string reason;   // metric label (bounded set) when reconnecting
    std::string detail;   // free text for the log line
    static verdict next() { return {}; }
    static verdict drop(std::string reason, std::string detail) {
        return {true, std::move(reason), std::move(detail)};
    }
};

// The protocol side of a source (Jetstream or firehose). Called on the client's thread only.
class message_handler {
public:
    virtual ~message_handler() = default;
    // Query parameters for the next connection; sets `cursor_text` for the log ("none" if live).
    virtual std::vector<query_param> connect_params(std::string& cursor_text) = 0;
    // One complete message. `payload` is valid only during the call. May block.
    virtual verdict on_message(std::string_view payload, bool binary) = 0;
    // A message above the size limit was discarded (already counted by the client).
    virtual void on_oversize(std::size_t bytes_seen) {}
};

struct client_options {
    std::string kind;                          // "jetstream" | "firehose": log prefix, metrics
    std::vector<std::string> urls;             // tried in order, rotating on failure
    // Extra trusted CA certificates (PEM) for wss://, added to the system store; empty = none.
    // If it cannot be loaded, an error is logged and only the system store is trusted.
    std::filesystem::path ca_file;
    std::size_t max_message_bytes = 2 * 1024 * 1024;
    std::chrono::milliseconds backoff_initial{500};
    std::chrono::milliseconds backoff_max{30'000};
    std::chrono::milliseconds connect_timeout{10'000};  // resolve + TCP + TLS + WS handshake
    std::chrono::milliseconds idle_timeout{30'000};     // no data (pings sent at half of it)
};

class reconnecting_client {
public:
    reconnecting_client(client_options opts, message_handler& handler,
                        prometheus::Registry& metrics);
    ~reconnecting_client();  // stop()
    reconnecting_client(const reconnecting_client&) = delete;
    reconnecting_client& operator=(const reconnecting_client&) = delete;

    void start();  // starts the thread; returns at once; call once
    void stop();   // interrupts reads and the backoff wait, joins the thread; idempotent
    // Connections that completed the WebSocket handshake so far (tests, diagnostics).
    std::uint64_t connections() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace labeler::pipeline::ws
