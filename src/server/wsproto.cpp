#include "src/server/wsproto.hpp"

#include <openssl/evp.h>

#include <algorithm>

#include "src/atproto/base64.hpp"

namespace labeler::server::ws {

std::string accept_key(std::string_view client_key) {
    static constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    std::string in;
    in.reserve(client_key.size() + guid.size());
    in.append(client_key).append(guid);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (EVP_Digest(in.data(), in.size(), md, &md_len, EVP_sha1(), nullptr) != 1) return {};
    return atproto::base64_encode(std::span<const std::uint8_t>(md, md_len), true);
}

bool valid_client_key(std::string_view key) {
    if (key.size() != 24 || key.substr(22) != "==") return false;
    auto decoded = atproto::base64_decode(key.substr(0, 22));
    return decoded && decoded->size() == 16;
}

void append_header(std::string& out, opcode op, std::size_t payload_len) {
    char h[10];
    std::size_t n = 2;
    h[0] = char(0x80 | std::uint8_t(op));
    if (payload_len < 126) {
        h[1] = char(payload_len);
    } else if (payload_len <= 0xFFFF) {
        h[1] = char(126);
        h[2] = char(payload_len >> 8);
        h[3] = char(payload_len);
        n = 4;
    } else {
        h[1] = char(127);
        for (int i = 0; i < 8; ++i) h[2 + i] = char(std::uint64_t(payload_len) >> (56 - 8 * i));
        n = 10;
    }
    out.append(h, n);
}

void append_frame(std::string& out, opcode op, std::string_view payload) {
    append_header(out, op, payload.size());
    out.append(payload);
}

std::string close_payload(std::uint16_t code, std::string_view reason) {
    std::string out;
    out.push_back(char(code >> 8));
    out.push_back(char(code & 0xFF));
    out.append(reason.substr(0, 123));
    return out;
}

namespace {

bool valid_close_code(std::uint16_t c) {
    return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999);
}

event protocol_error(std::string what) {
    return {event::kind::error, close_protocol_error, std::move(what)};
}

}  // namespace

std::size_t client_reader::feed(std::span<const std::uint8_t> in, std::vector<event>& out) {
    std::size_t pos = 0;
    while (!done_) {
        if (skip_ > 0) {  // inside a data frame's payload: discard it as it streams past
            auto n = std::min<std::uint64_t>(skip_, in.size() - pos);
            pos += std::size_t(n);
            skip_ -= n;
            if (skip_ > 0) break;
            if (frame_fin_) {
                out.push_back({event::kind::message, 0, {}});
                in_message_ = false;
                message_size_ = 0;
            }
            continue;
        }
        const std::size_t avail = in.size() - pos;
        if (avail < 2) break;
        const std::uint8_t b0 = in[pos], b1 = in[pos + 1];
        if (b0 & 0x70) {
            out.push_back(protocol_error("reserved bits set"));
            done_ = true;
            break;
        }
        if (!(b1 & 0x80)) {
            out.push_back(protocol_error("client frame not masked"));
            done_ = true;
            break;
        }
        const bool fin = b0 & 0x80;
        const std::uint8_t op = b0 & 0x0F;
        std::uint64_t len = b1 & 0x7F;
        std::size_t header = 2;
        if (len == 126) header += 2;
        else if (len == 127) header += 8;
        header += 4;  // masking key
        if (avail < header) break;
        if (len == 126) {
            len = (std::uint64_t(in[pos + 2]) << 8) | in[pos + 3];
            if (len < 126) {
                out.push_back(protocol_error("non-minimal frame length"));
                done_ = true;
                break;
            }
        } else if (len == 127) {
            len = 0;
            for (int i = 0; i < 8; ++i) len = (len << 8) | in[pos + 2 + i];
            if (len >> 63 || len <= 0xFFFF) {
                out.push_back(protocol_error("bad 64-bit frame length"));
                done_ = true;
                break;
            }
        }
        const std::uint8_t* mask = &in[pos + header - 4];

        if (op >= 0x8) {  // control frame
            if (!fin || len > 125) {
                out.push_back(protocol_error("fragmented or oversized control frame"));
                done_ = true;
                break;
            }
            if (avail < header + len) break;
            std::string payload(std::size_t(len), '\0');
            for (std::size_t i = 0; i < len; ++i)
                payload[i] = char(in[pos + header + i] ^ mask[i % 4]);
            pos += header + std::size_t(len);
            if (op == std::uint8_t(opcode::ping)) {
                out.push_back({event::kind::ping, 0, std::move(payload)});
            } else if (op == std::uint8_t(opcode::pong)) {
                out.push_back({event::kind::pong, 0, {}});
            } else if (op == std::uint8_t(opcode::close)) {
                done_ = true;
                if (payload.empty()) {
                    out.push_back({event::kind::close, 1005, {}});
                } else if (payload.size() == 1) {
                    out.push_back(protocol_error("close frame with a 1-byte payload"));
                } else {
                    auto code = std::uint16_t((std::uint8_t(payload[0]) << 8) |
                                              std::uint8_t(payload[1]));
                    if (!valid_close_code(code))
                        out.push_back(protocol_error("invalid close code " + std::to_string(code)));
                    else
                        out.push_back({event::kind::close, code, payload.substr(2)});
                }
            } else {
                out.push_back(protocol_error("unknown control opcode " + std::to_string(op)));
                done_ = true;
            }
            continue;
        }

        // data frame
        if (op == std::uint8_t(opcode::continuation)) {
            if (!in_message_) {
                out.push_back(protocol_error("continuation frame without a message"));
                done_ = true;
                break;
            }
        } else if (op == std::uint8_t(opcode::text) || op == std::uint8_t(opcode::binary)) {
            if (in_message_) {
                out.push_back(protocol_error("new message inside a fragmented message"));
                done_ = true;
                break;
            }
        } else {
            out.push_back(protocol_error("unknown data opcode " + std::to_string(op)));
            done_ = true;
            break;
        }
        message_size_ += len;
        if (message_size_ > max_message_) {
            out.push_back({event::kind::error, close_too_big, "message too big"});
            done_ = true;
            break;
        }
        pos += header;
        in_message_ = true;
        frame_fin_ = fin;
        skip_ = len;
        if (len == 0 && fin) {
            out.push_back({event::kind::message, 0, {}});
            in_message_ = false;
            message_size_ = 0;
        }
    }
    return pos;
}

}  // namespace labeler::server::ws
