// Strict DAG-CBOR decoder. Oracle: whatever decode() accepts is canonical, so encode() must
// reproduce the input byte for byte; decode_frame/decode_prefix must agree with each other.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "src/atproto/cbor.hpp"

using namespace labeler::atproto;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static cbor::decoder dec;
    const std::span<const std::uint8_t> in(data, size);
    if (auto v = dec.decode(in)) {
        const std::string enc = cbor::encode(*v);
        if (enc.size() != size ||
            enc.compare(0, size, reinterpret_cast<const char*>(data), size) != 0) {
            std::abort();
        }
    }
    dec.clear();
    auto h = dec.decode_prefix(in);
    if (h) {
        auto b = dec.decode_prefix(in.subspan(h->consumed));
        auto f = dec.decode_frame(in);
        const bool whole = b && h->consumed + b->consumed == size;
        if (bool(f) != whole) std::abort();
        if (f) {
            const std::string enc = cbor::encode(f->header) + cbor::encode(f->body);
            if (enc.compare(0, std::string::npos, reinterpret_cast<const char*>(data), size) != 0) {
                std::abort();
            }
            // Accessors on arbitrary values never misbehave.
            (void)f->header.get_int("op");
            (void)f->header.get_text("t");
            if (const auto* ops = f->body.find("ops")) {
                for (const auto& op : ops->items()) (void)op.as_cid();
            }
        }
    }
    return 0;
}
