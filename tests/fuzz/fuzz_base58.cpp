// base58btc decoding. Oracle: decode is the exact inverse of encode on accepted input.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "src/atproto/base58.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto d = labeler::atproto::base58btc_decode(text)) {
        if (labeler::atproto::base58btc_encode(*d) != text) std::abort();
    }
    return 0;
}
