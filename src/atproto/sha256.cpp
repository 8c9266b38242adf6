#include "src/atproto/sha256.hpp"

#include <openssl/sha.h>

namespace labeler::atproto {

sha256_digest sha256(std::span<const std::uint8_t> data) {
    sha256_digest out;
    SHA256(data.data(), data.size(), out.data());
    return out;
}

}  // namespace labeler::atproto
