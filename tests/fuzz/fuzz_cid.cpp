// CID parsing, string and binary. Oracle: accepted CIDs print back to the exact input.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "src/atproto/cid.hpp"

using namespace labeler::atproto;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto c = cid::parse(text)) {
        if (c->to_string() != text) std::abort();
    }
    std::span<const std::uint8_t> in(data, size);
    if (auto c = cid::parse_binary(in)) {
        if (c->bytes().size() + in.size() != size) std::abort();
        auto again = cid::parse(c->to_string());
        if (!again || !(*again == *c)) std::abort();
        auto len = cid::binary_length({data, size});
        if (!len || *len != c->bytes().size()) std::abort();
    }
    return 0;
}
