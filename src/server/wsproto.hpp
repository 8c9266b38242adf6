#pragma once
// The server side of RFC 6455 framing, without sockets: the handshake's accept key, server
// frame headers, and an incremental reader of client frames.
//
// Why not Beast's websocket::stream: it writes one message per async_write (one syscall per
// frame), and it answers pings on its own, so frames cannot be batched beside it. A labeler
// writes many small frames to many subscribers; batching them into one write per drain is what
// makes replay and fan-out fast. Beast still parses the HTTP upgrade request (http.cpp).
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace labeler::server::ws {

enum class opcode : std::uint8_t {
    continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA
};

// Close codes used here (RFC 6455 §7.4.1).
inline constexpr std::uint16_t close_normal = 1000;
inline constexpr std::uint16_t close_going_away = 1001;
inline constexpr std::uint16_t close_protocol_error = 1002;
inline constexpr std::uint16_t close_policy_error = 1008;
inline constexpr std::uint16_t close_too_big = 1009;
inline constexpr std::uint16_t close_internal_error = 1011;

// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key: base64(SHA-1(key + GUID)).
std::string accept_key(std::string_view client_key);
// A valid Sec-WebSocket-Key is the base64 of 16 bytes (24 characters, "==" padded).
bool valid_client_key(std::string_view key);

// Appends the header of one unmasked, final server frame carrying `payload_len` bytes.
void append_header(std::string& out, opcode op, std::size_t payload_len);
// Header + payload.
void append_frame(std::string& out, opcode op, std::string_view payload);
// Close frame payload: 2-byte code + reason (truncated so the payload stays within 125 bytes).
std::string close_payload(std::uint16_t code, std::string_view reason);

// One thing the reader found in the client's byte stream.
struct event {
    enum class kind {
        message,  // a complete text/binary message (its content is not kept: the server ignores it)
        ping,     // payload = ping data (to echo in a pong)
        pong,
        close,    // code (1005 when the frame had no code) and reason in payload
        error,    // protocol violation: code (1002 or 1009) and a description in payload
    };
    kind k;
    std::uint16_t code = 0;
    std::string payload;
};

// Incremental reader of client-to-server frames: every frame must be masked; control frames
// are at most 125 bytes and never fragmented; RSV bits must be 0; a message (across its
// fragments) may not exceed max_message bytes. Data payloads are skipped as they stream past,
// so the input buffer never needs to hold a whole message. After an error or a close event,
// the reader consumes nothing more.
class client_reader {
public:
    explicit client_reader(std::size_t max_message) : max_message_(max_message) {}

    // Consumes bytes from `in` and appends events to `out`; returns how many bytes were
    // consumed. Bytes not consumed (an incomplete header or control frame) must be given again,
    // followed by more input.
    std::size_t feed(std::span<const std::uint8_t> in, std::vector<event>& out);
    bool done() const { return done_; }

private:
    std::size_t max_message_;
    std::uint64_t skip_ = 0;          // data payload bytes of the current frame still to skip
    std::uint64_t message_size_ = 0;  // bytes of the current (possibly fragmented) message
    bool in_message_ = false;         // a fragmented message awaits continuation frames
    bool frame_fin_ = false;          // the frame being skipped ends its message
    bool done_ = false;
};

}  // namespace labeler::server::ws
