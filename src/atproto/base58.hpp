#pragma once
// base58btc (Bitcoin alphabet), as used by multibase 'z' (multikey, did:key).
//
// Leading zero bytes map to leading '1's and back. Decoding is strict: any character outside
// the alphabet (including the excluded 0, O, I, l) is an error naming it and its offset.
// Quadratic in the input length (fine for keys; inputs are capped at max_base58_input).
// Pure functions, thread-safe.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/common/result.hpp"

namespace labeler::atproto {

inline constexpr std::size_t max_base58_input = 4096;

// base58btc of `data` (no multibase prefix).
std::string base58btc_encode(std::span<const std::uint8_t> data);
inline std::string base58btc_encode(std::string_view data) {
    return base58btc_encode({reinterpret_cast<const std::uint8_t*>(data.data()), data.size()});
}

// Decodes base58btc (no multibase prefix); rejects non-alphabet characters and inputs longer
// than max_base58_input.
result<std::vector<std::uint8_t>> base58btc_decode(std::string_view text);

}  // namespace labeler::atproto
