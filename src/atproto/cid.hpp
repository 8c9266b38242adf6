#pragma once
// cid: a CIDv1 content identifier (version, codec, multihash) in its binary form.
//
// Owns a copy of the binary CID in a fixed inline buffer (no heap), so it is cheap to copy and
// usable as a map key (operator==, operator<, std::hash). CIDv0 (bare sha2-256 multihash) is
// rejected, as are digests longer than max_digest. String form: multibase 'b' + lowercase
// base32 ("bafyrei…"). Immutable after construction; thread-safe to share.
#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "src/atproto/sha256.hpp"
#include "src/common/result.hpp"

namespace labeler::atproto {

inline constexpr std::uint64_t codec_raw = 0x55;
inline constexpr std::uint64_t codec_dag_cbor = 0x71;
inline constexpr std::uint64_t multihash_sha2_256 = 0x12;

class cid {
public:
    static constexpr std::size_t max_digest = 64;
    static constexpr std::size_t max_binary = 1 + 9 + 9 + 1 + max_digest;

    cid() = default;  // empty (size 0); not a valid CID, only a placeholder

    // Parses a binary CIDv1 from the front of `in` and advances `in` past it.
    static result<cid> parse_binary(std::span<const std::uint8_t>& in);
    // Parses a binary CIDv1 that must span all of `bytes`.
    static result<cid> from_binary(std::span<const std::uint8_t> bytes);
    // Parses the string form "b<base32 lowercase>" (CIDv1 only).
    static result<cid> parse(std::string_view text);
    // A CIDv1 with sha2-256 over `block` and the given codec (dag-cbor by default).
    static cid compute(std::span<const std::uint8_t> block, std::uint64_t codec = codec_dag_cbor);

    // Length of the binary CIDv1 at the front of `in` without copying it (validates the same
    // things as parse_binary).
    static result<std::size_t> binary_length(std::span<const std::uint8_t> in);

    std::uint64_t version() const noexcept { return 1; }
    std::uint64_t codec() const noexcept { return codec_; }
    std::uint64_t hash_code() const noexcept { return hash_code_; }
    std::span<const std::uint8_t> digest() const noexcept {
        return {bin_.data() + digest_off_, std::size_t(size_ - digest_off_)};
    }
    // The binary CID (what CAR sections and tag-42 links carry, without the 0x00 prefix).
    std::span<const std::uint8_t> bytes() const noexcept { return {bin_.data(), size_}; }
    std::string binary() const { return {reinterpret_cast<const char*>(bin_.data()), size_}; }
    bool empty() const noexcept { return size_ == 0; }

    // "b" + base32 of the binary form, e.g. "bafyrei…".
    std::string to_string() const;
    // True iff the hash is sha2-256 with a 32-byte digest equal to sha256(block).
    bool matches(std::span<const std::uint8_t> block) const;

    friend bool operator==(const cid& a, const cid& b) noexcept {
        return a.size_ == b.size_ && std::memcmp(a.bin_.data(), b.bin_.data(), a.size_) == 0;
    }
    friend std::strong_ordering operator<=>(const cid& a, const cid& b) noexcept {
        const int c = std::memcmp(a.bin_.data(), b.bin_.data(), std::min(a.size_, b.size_));
        if (c != 0) return c < 0 ? std::strong_ordering::less : std::strong_ordering::greater;
        return a.size_ <=> b.size_;
    }
    // Equal to the binary form `other` (no parsing).
    bool equals_binary(std::span<const std::uint8_t> other) const noexcept {
        return other.size() == size_ && std::memcmp(other.data(), bin_.data(), size_) == 0;
    }

private:
    std::array<std::uint8_t, max_binary> bin_{};
    std::uint8_t size_ = 0;
    std::uint8_t digest_off_ = 0;
    std::uint64_t codec_ = 0;
    std::uint64_t hash_code_ = 0;
};

}  // namespace labeler::atproto

template <>
struct std::hash<labeler::atproto::cid> {
    std::size_t operator()(const labeler::atproto::cid& c) const noexcept {
        // Digests are uniformly distributed; mix in the prefix for non-hash CIDs.
        const auto b = c.bytes();
        std::size_t h = 1469598103934665603ull;
        for (std::size_t i = 0; i < b.size() && i < 24; ++i)
            h = (h ^ b[b.size() - 1 - i]) * 1099511628211ull;
        return h;
    }
};
