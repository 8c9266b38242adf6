// base32 (lowercase, unpadded) decoding. Oracle: decode is the exact inverse of encode.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "src/atproto/base32.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto d = labeler::atproto::base32_decode(text)) {
        if (labeler::atproto::base32_encode(*d) != text) std::abort();
    }
    return 0;
}
