#pragma once
// SHA-256 (OpenSSL). Thread-safe, allocation-free.
#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace labeler::atproto {

using sha256_digest = std::array<std::uint8_t, 32>;

sha256_digest sha256(std::span<const std::uint8_t> data);
inline sha256_digest sha256(std::string_view s) {
    return sha256({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
}

}  // namespace labeler::atproto
