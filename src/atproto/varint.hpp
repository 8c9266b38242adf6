#pragma once
// Unsigned LEB128 varints as used by multiformats (CIDs, multicodec, multikey) and CAR files.
//
// Multiformats rules: at most 9 bytes (values < 2^63) and minimal encoding only (no trailing
// 0x80 continuation groups). Pure functions, thread-safe.
#include <cstdint>
#include <span>
#include <string>

#include "src/common/result.hpp"

namespace labeler::atproto {

inline constexpr std::size_t max_uvarint_bytes = 9;

// Appends the minimal varint encoding of `v` (v must be < 2^63 for readers to accept it).
void put_uvarint(std::string& out, std::uint64_t v);

// Reads one varint from the front of `in` and advances `in` past it. Rejects truncated,
// non-minimal and over-long (> 9 bytes) encodings; `in` is left unchanged on error.
result<std::uint64_t> read_uvarint(std::span<const std::uint8_t>& in);

}  // namespace labeler::atproto
