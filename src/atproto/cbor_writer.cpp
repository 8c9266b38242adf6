#include "src/atproto/cbor_writer.hpp"

namespace labeler::atproto::cbor {

void writer::head(major m, std::uint64_t arg) {
    const auto ib = static_cast<std::uint8_t>(m << 5);
    char buf[9];
    std::size_t n;
    if (arg < 24) {
        buf[0] = char(ib | arg);
        n = 1;
    } else if (arg <= 0xff) {
        buf[0] = char(ib | 24);
        buf[1] = char(arg);
        n = 2;
    } else if (arg <= 0xffff) {
        buf[0] = char(ib | 25);
        buf[1] = char(arg >> 8);
        buf[2] = char(arg);
        n = 3;
    } else if (arg <= 0xffffffffULL) {
        buf[0] = char(ib | 26);
        for (int i = 0; i < 4; ++i) buf[1 + i] = char(arg >> (24 - 8 * i));
        n = 5;
    } else {
        buf[0] = char(ib | 27);
        for (int i = 0; i < 8; ++i) buf[1 + i] = char(arg >> (56 - 8 * i));
        n = 9;
    }
    out_.append(buf, n);
}

void writer::link(std::span<const std::uint8_t> binary_cid) {
    head(major_tag, 42);
    head(major_bytes, binary_cid.size() + 1);
    out_.push_back('\0');
    out_.append(reinterpret_cast<const char*>(binary_cid.data()), binary_cid.size());
}

}  // namespace labeler::atproto::cbor
