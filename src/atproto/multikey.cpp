#include "src/atproto/multikey.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "src/atproto/base58.hpp"
#include "src/atproto/varint.hpp"

namespace labeler::atproto {

std::string encode_multikey(const public_key& key) {
    std::string raw;
    raw.reserve(2 + key.compressed.size());
    put_uvarint(raw, key.crv == curve::k256 ? multicodec_k256_pub : multicodec_p256_pub);
    raw.append(reinterpret_cast<const char*>(key.compressed.data()), key.compressed.size());
    return "z" + base58btc_encode(raw);
}

result<public_key> decode_multikey(std::string_view multikey) {
    if (multikey.empty()) return fail("multikey: empty");
    if (multikey.front() != 'z') {
        return fail(
            fmt::format("multikey: must start with 'z' (base58btc), got '{}'", multikey.front()));
    }
    if (multikey.size() > 128) return fail("multikey: too long");
    auto raw = base58btc_decode(multikey.substr(1));
    if (!raw) return fail("multikey: " + raw.error().message);
    std::span<const std::uint8_t> in(*raw);
    auto codec = read_uvarint(in);
    if (!codec) return fail("multikey: codec " + codec.error().message);
    public_key key;
    if (*codec == multicodec_k256_pub) {
        key.crv = curve::k256;
    } else if (*codec == multicodec_p256_pub) {
        key.crv = curve::p256;
    } else {
        return fail(
            fmt::format("multikey: unsupported multicodec 0x{:x} (expected 0xe7 secp256k1-pub or "
                        "0x1200 p256-pub)",
                        *codec));
    }
    if (in.size() != key.compressed.size()) {
        return fail(fmt::format("multikey: key is {} bytes, expected a 33-byte compressed point",
                                in.size()));
    }
    if (in[0] != 0x02 && in[0] != 0x03) {
        return fail(
            fmt::format("multikey: point prefix 0x{:02x} is not compressed (0x02/0x03)", in[0]));
    }
    std::copy(in.begin(), in.end(), key.compressed.begin());
    return key;
}

std::string to_did_key(const public_key& key) {
    return "did:key:" + encode_multikey(key);
}

result<public_key> parse_did_key(std::string_view did) {
    constexpr std::string_view prefix = "did:key:";
    if (did.substr(0, prefix.size()) != prefix)
        return fail("did:key: must start with \"did:key:\"");
    return decode_multikey(did.substr(prefix.size()));
}

}  // namespace labeler::atproto
