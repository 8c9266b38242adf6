// Multiformats varints. Oracle: accepted varints are minimal, so re-encoding gives the bytes read.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "src/atproto/varint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::span<const std::uint8_t> in(data, size);
    while (!in.empty()) {
        const std::size_t before = in.size();
        auto v = labeler::atproto::read_uvarint(in);
        if (!v) {
            if (in.size() != before) std::abort();
            break;
        }
        std::string enc;
        labeler::atproto::put_uvarint(enc, *v);
        const std::size_t used = before - in.size();
        if (enc.size() != used ||
            enc.compare(0, used, reinterpret_cast<const char*>(in.data()) - used, used) != 0) {
            std::abort();
        }
    }
    return 0;
}
