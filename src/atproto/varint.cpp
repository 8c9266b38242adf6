#include "src/atproto/varint.hpp"

namespace labeler::atproto {

void put_uvarint(std::string& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.push_back(char((v & 0x7f) | 0x80));
        v >>= 7;
    }
    out.push_back(char(v));
}

result<std::uint64_t> read_uvarint(std::span<const std::uint8_t>& in) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (i == max_uvarint_bytes) return fail("varint: longer than 9 bytes");
        const std::uint8_t b = in[i];
        v |= std::uint64_t(b & 0x7f) << (7 * i);
        if ((b & 0x80) == 0) {
            if (b == 0 && i > 0) return fail("varint: non-minimal encoding");
            in = in.subspan(i + 1);
            return v;
        }
    }
    if (in.size() >= max_uvarint_bytes) return fail("varint: longer than 9 bytes");
    return fail("varint: truncated");
}

}  // namespace labeler::atproto
