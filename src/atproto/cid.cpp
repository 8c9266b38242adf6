#include "src/atproto/cid.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "src/atproto/base32.hpp"
#include "src/atproto/varint.hpp"

namespace labeler::atproto {

namespace {

struct layout {
    std::size_t size = 0;
    std::size_t digest_off = 0;
    std::uint64_t codec = 0;
    std::uint64_t hash_code = 0;
};

result<layout> scan(std::span<const std::uint8_t> in) {
    const std::size_t total = in.size();
    if (in.size() >= 2 && in[0] == 0x12 && in[1] == 0x20) {
        return fail("cid: CIDv0 (bare sha2-256 multihash) is not supported");
    }
    auto version = read_uvarint(in);
    if (!version) return fail("cid: version " + version.error().message);
    if (*version != 1) return fail(fmt::format("cid: unsupported version {}", *version));
    auto codec = read_uvarint(in);
    if (!codec) return fail("cid: codec " + codec.error().message);
    auto code = read_uvarint(in);
    if (!code) return fail("cid: multihash code " + code.error().message);
    auto len = read_uvarint(in);
    if (!len) return fail("cid: multihash length " + len.error().message);
    if (*len > cid::max_digest) {
        return fail(fmt::format("cid: digest length {} exceeds {}", *len, cid::max_digest));
    }
    if (*code == multihash_sha2_256 && *len != 32) {
        return fail(fmt::format("cid: sha2-256 digest length {} (expected 32)", *len));
    }
    if (in.size() < *len) {
        return fail(fmt::format("cid: truncated digest ({} of {} bytes)", in.size(), *len));
    }
    layout l;
    l.digest_off = total - in.size();
    l.size = l.digest_off + *len;
    l.codec = *codec;
    l.hash_code = *code;
    return l;
}

}  // namespace

result<std::size_t> cid::binary_length(std::span<const std::uint8_t> in) {
    auto l = scan(in);
    if (!l) return l.error();
    return l->size;
}

result<cid> cid::parse_binary(std::span<const std::uint8_t>& in) {
    auto l = scan(in);
    if (!l) return l.error();
    cid c;
    std::copy_n(in.begin(), l->size, c.bin_.begin());
    c.size_ = std::uint8_t(l->size);
    c.digest_off_ = std::uint8_t(l->digest_off);
    c.codec_ = l->codec;
    c.hash_code_ = l->hash_code;
    in = in.subspan(l->size);
    return c;
}

result<cid> cid::from_binary(std::span<const std::uint8_t> bytes) {
    auto in = bytes;
    auto c = parse_binary(in);
    if (!c) return c;
    if (!in.empty()) return fail(fmt::format("cid: {} trailing bytes", in.size()));
    return c;
}

result<cid> cid::parse(std::string_view text) {
    if (text.empty()) return fail("cid: empty string");
    if (text.size() > 2 * max_binary) return fail("cid: string too long");
    if (text.front() != 'b') {
        if (text.size() == 46 && text.substr(0, 2) == "Qm") {
            return fail("cid: CIDv0 (\"Qm…\") is not supported");
        }
        return fail(fmt::format("cid: unsupported multibase prefix '{}' (expected 'b', base32)",
                                text.front()));
    }
    auto raw = base32_decode(text.substr(1));
    if (!raw) return fail("cid: " + raw.error().message);
    return from_binary(*raw);
}

cid cid::compute(std::span<const std::uint8_t> block, std::uint64_t codec) {
    std::string b;
    put_uvarint(b, 1);
    put_uvarint(b, codec);
    put_uvarint(b, multihash_sha2_256);
    put_uvarint(b, 32);
    const auto d = sha256(block);
    b.append(reinterpret_cast<const char*>(d.data()), d.size());
    cid c;
    std::copy(b.begin(), b.end(), c.bin_.begin());
    c.size_ = std::uint8_t(b.size());
    c.digest_off_ = std::uint8_t(b.size() - 32);
    c.codec_ = codec;
    c.hash_code_ = multihash_sha2_256;
    return c;
}

std::string cid::to_string() const {
    std::string out = "b";
    base32_append(out, bytes());
    return out;
}

bool cid::matches(std::span<const std::uint8_t> block) const {
    if (hash_code_ != multihash_sha2_256 || size_ - digest_off_ != 32) return false;
    const auto d = sha256(block);
    return std::equal(d.begin(), d.end(), bin_.begin() + digest_off_);
}

}  // namespace labeler::atproto
