// Multikey / did:key decoding. Oracle: accepted keys re-encode to the exact input.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "src/atproto/multikey.hpp"

using namespace labeler::atproto;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto k = decode_multikey(text)) {
        if (encode_multikey(*k) != text) std::abort();
    }
    if (auto k = parse_did_key(text)) {
        if (to_did_key(*k) != text) std::abort();
    }
    return 0;
}
