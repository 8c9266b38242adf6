#pragma once
// RFC 4648 base32, lowercase alphabet "a-z2-7", no padding: multibase 'b' (CID strings).
//
// Decoding is strict: lowercase only, no '=', no impossible lengths (1, 3 or 6 characters in
// the last group), no non-zero trailing bits. Pure functions, thread-safe.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/common/result.hpp"

namespace labeler::atproto {

// Lowercase unpadded base32 of `data`.
std::string base32_encode(std::span<const std::uint8_t> data);
inline std::string base32_encode(std::string_view data) {
    return base32_encode({reinterpret_cast<const std::uint8_t*>(data.data()), data.size()});
}
// Appends the lowercase unpadded base32 of `data` to `out`.
void base32_append(std::string& out, std::span<const std::uint8_t> data);

// Decodes lowercase unpadded base32; errors name the offending offset.
result<std::vector<std::uint8_t>> base32_decode(std::string_view text);

}  // namespace labeler::atproto
