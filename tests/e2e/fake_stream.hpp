#pragma once
// fake_stream_server: an in-process WebSocket event server for tests and benches, the engine
// behind fake_jetstream and fake_relay.
//
// Owns one io_context thread bound to 127.0.0.1:0. Each accepted connection records its request
// target, picks its start position from the `cursor` query parameter (inclusive for Jetstream
// time_us, exclusive for firehose seq with FutureCursor when the cursor is ahead), then streams
// the script: frames are written pre-framed in large batches straight to the socket, so the
// server is not the bottleneck of a throughput test. When the script is exhausted the connection
// stays open and waits for push(). A connection can be cut after N frames (drop_after) to test
// reconnects. With options::tls set it serves wss:// instead (TLS handshake first, same
// protocol after it); a failed TLS handshake is just a closed connection. All public functions
// are thread-safe.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/e2e/fake_ca.hpp"

namespace labeler::testing {

struct scripted_frame {
    std::uint64_t key = 0;   // Jetstream time_us or firehose seq; the script is ordered by it
    std::string payload;     // the WebSocket message, sent as is
    bool binary = false;     // binary (firehose, zstd Jetstream) or text (Jetstream JSON)
};

// Produces frame `index` of a generated script (bench): avoids holding millions of frames.
using frame_generator = std::function<void(std::size_t index, scripted_frame& out)>;

class fake_stream_server {
public:
    enum class cursor_mode {
        inclusive,             // Jetstream: key >= cursor; no cursor = the whole script
        exclusive_or_future,   // relay: key > cursor; cursor beyond the last key -> FutureCursor
    };
    struct options {
        cursor_mode mode = cursor_mode::inclusive;
        std::string path = "/subscribe";
        // Connection i (0-based) is cut (TCP close, no close frame) after drop_after[i] frames.
        std::vector<std::size_t> drop_after;
        // Close the connection (normal close frame) once the script is exhausted, instead of
        // waiting for push().
        bool close_at_end = false;
        // Serve TLS (wss://) with this certificate chain and key.
        std::optional<tls_identity> tls;
    };

    explicit fake_stream_server(options opts);
    ~fake_stream_server();  // stop()
    fake_stream_server(const fake_stream_server&) = delete;
    fake_stream_server& operator=(const fake_stream_server&) = delete;

    void push(scripted_frame f);                  // appends; open connections send it
    void push(std::vector<scripted_frame> frames);
    // Replaces the script by `count` generated frames (keys must ascend with the index).
    void set_generator(std::size_t count, frame_generator gen);
    void drop_all();                              // cuts every open connection now
    void stop();                                  // closes everything, joins; idempotent

    std::uint16_t port() const;
    // ws://HOST:PORT<path>, or wss:// with options::tls (the server listens on 127.0.0.1 only).
    std::string url(std::string_view host = "127.0.0.1") const;
    std::vector<std::string> targets() const;     // request targets received, in order
    // The cursor query parameter of each connection, in order (nullopt when absent/invalid).
    std::vector<std::optional<std::uint64_t>> cursors() const;
    std::size_t connections() const;              // WebSocket handshakes accepted so far
    std::uint64_t frames_sent() const;
    // Blocks until `n` connections were accepted or `timeout` passed; returns whether reached.
    bool wait_connections(std::size_t n, std::chrono::milliseconds timeout) const;
    // Blocks until `n` frames were written in total or `timeout` passed.
    bool wait_frames_sent(std::uint64_t n, std::chrono::milliseconds timeout) const;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

// One unmasked server-to-client WebSocket frame (FIN set) around `payload`, appended to `out`.
void append_ws_frame(std::string& out, std::string_view payload, bool binary);

}  // namespace labeler::testing
