// base64 decoding (padding optional). Oracle: re-encoding with the same padding choice gives the
// input back (strict decoding leaves exactly one spelling per byte string and padding style).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "src/atproto/base64.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto d = labeler::atproto::base64_decode(text)) {
        const bool padded = !text.empty() && text.back() == '=';
        const auto again = labeler::atproto::base64_encode(*d, padded);
        // Unpadded input whose length is a multiple of 4 also equals the padded form.
        if (again != text) std::abort();
    }
    return 0;
}
