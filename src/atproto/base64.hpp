#pragma once
// RFC 4648 base64 (standard alphabet "+/"), as used by atproto JSON `{"$bytes": "..."}`.
//
// Encoding is unpadded by default (atproto writes `$bytes` without '='). Decoding accepts
// padded or unpadded input and is strict: no whitespace, no "-_" (base64url), no bad lengths,
// no non-zero trailing bits. Pure functions, thread-safe.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/common/result.hpp"

namespace labeler::atproto {

// Standard-alphabet base64 of `data`; '=' padding only when `pad`.
std::string base64_encode(std::span<const std::uint8_t> data, bool pad = false);
// Appends the encoding to `out` (no temporary string).
void base64_append(std::string& out, std::span<const std::uint8_t> data, bool pad = false);
inline std::string base64_encode(std::string_view data, bool pad = false) {
    return base64_encode({reinterpret_cast<const std::uint8_t*>(data.data()), data.size()}, pad);
}

// Decodes padded or unpadded standard base64; errors name the offending offset.
result<std::vector<std::uint8_t>> base64_decode(std::string_view text);

}  // namespace labeler::atproto
