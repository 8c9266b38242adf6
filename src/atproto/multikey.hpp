#pragma once
// Multikey and did:key encoding of atproto public keys (protocol.md §2).
//
// multikey = "z" + base58btc(varint multicodec + 33-byte compressed point), with multicodec
// secp256k1-pub 0xE7 (bytes e7 01, "zQ3s…") or p256-pub 0x1200 (bytes 80 24, "zDna…").
// Decoding checks the structure (prefix, codec, length, 0x02/0x03 point prefix) but not that
// the point is on the curve: crypto::verify() rejects such keys. Pure functions, thread-safe.
#include <string>
#include <string_view>

#include "src/atproto/crypto.hpp"
#include "src/common/result.hpp"

namespace labeler::atproto {

inline constexpr std::uint64_t multicodec_k256_pub = 0xe7;
inline constexpr std::uint64_t multicodec_p256_pub = 0x1200;

// "z…" multikey of `key`.
std::string encode_multikey(const public_key& key);
// Parses a "z…" multikey (k256 or p256 compressed); errors say what is wrong.
result<public_key> decode_multikey(std::string_view multikey);

// "did:key:z…" of `key`.
std::string to_did_key(const public_key& key);
// Parses "did:key:z…" (k256 or p256 compressed).
result<public_key> parse_did_key(std::string_view did);

}  // namespace labeler::atproto
