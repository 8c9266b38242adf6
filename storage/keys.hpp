#pragma once
// keys: the byte layout of every RocksDB key and value the label store writes. Pure functions,
// no RocksDB types, so the codec is unit-tested on its own.
//
// Column families and their keys (BE8 = 8-byte big-endian unsigned, so byte order = seq order;
// "+" = concatenation; 0x00 separates a variable-length part from what follows, which is why a
// URI, DID, rkey or source name containing 0x00 is rejected before it reaches a key):
//
//   log       BE8(seq)                      -> label DAG-CBOR, exactly as served
//   current   BE8(seq)                      -> uri + 0x00 + src   (current entries, any uri)
//   state     uri                           -> encode_state(subject_state): the current entry
//                                              (seq) per value, the index of queries by URI;
//                                              for an account also its follow records that
//                                              target the labeler and its status
//   meta      "schema"                      -> decimal schema version ("3")
//             "stamp"                       -> encode_stamp(stamp)
//             "last_seq"                    -> BE8
//             "n/log" "n/current" "n/follows" -> BE8 maintained counters (for stats/metrics)
//             "cursor/" + source            -> BE8 source cursor
//             "src/" + did                  -> empty: a label source (src) that has labels
//
// Schema 1 also had by_uri (uri + 0x00 + BE8(seq) -> src) and by_src (src + 0x00 + BE8(seq) ->
// uri); both repeated what `state` and `current` hold. Schema 2 kept follow records in
// `follows` (follower + 0x00 + rkey -> subject DID) and non-active account statuses in
// `accounts` (did -> one status byte); schema 3 keeps both in the account's state record, so a
// new follower costs one random-order key instead of two. Opening an older folder read-write
// upgrades it (see label_store::open).
//
// Every state key of URIs starting with prefix P lies in [P, P+1) where P+1 is P with its last
// byte incremented (see prefix_successor). Matching is exact bytes: '_' '%' and upper case have
// no special meaning.
//
// The state value: version byte 2, varint count, then per value (sorted by val):
//   varint len + val, varint seq, varint len + cts, flags byte (bit0 neg, bit1 has exp),
//   [varint len + exp];
// then the account status byte (account_status), varint count, and per follow record (sorted
// by rkey): varint len + rkey, varint len + subject DID. Version 1 (schema 2) ends after the
// labels.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "src/common/result.hpp"
#include "storage/label_store.hpp"
#include "storage/types.hpp"

namespace labeler::storage::keys {

inline constexpr std::string_view kSchemaVersion = "3";
inline constexpr std::string_view kSchemaVersion2 = "2";
inline constexpr std::string_view kSchemaVersion1 = "1";

// 8-byte big-endian encoding of v.
std::string be8(std::uint64_t v);
void append_be8(std::string& out, std::uint64_t v);
// Decodes 8 big-endian bytes; nullopt unless `in` is exactly 8 bytes.
std::optional<std::uint64_t> read_be8(std::string_view in);

// True when s can be part of a key (contains no 0x00 byte).
inline bool key_safe(std::string_view s) { return s.find('\0') == std::string_view::npos; }

// name + 0x00 + BE8(seq): the keys of schema 1's by_src (read once, when upgrading a folder).
std::string name_seq(std::string_view name, std::uint64_t seq);
// Splits a name_seq key back into (name, seq); nullopt when malformed.
std::optional<std::pair<std::string_view, std::uint64_t>> split_name_seq(std::string_view key);

// follower + 0x00 + rkey: the keys of schema 2's `follows` (read once, when upgrading).
std::string follow_key(std::string_view follower, std::string_view rkey);
// follower + 0x00: the common prefix of every follow record of one follower.
std::string follow_prefix(std::string_view follower);
// Splits a follows key into (follower, rkey); nullopt when malformed.
std::optional<std::pair<std::string_view, std::string_view>> split_follow_key(std::string_view k);

// uri + 0x00 + src: the value of a `current` entry; split_current reverses it.
std::string current_value(std::string_view uri, std::string_view src);
std::optional<std::pair<std::string_view, std::string_view>> split_current(std::string_view v);

// The smallest string greater than every string that starts with `prefix`, or nullopt when no
// such bound exists (prefix empty or all 0xff bytes: the range is unbounded above).
std::optional<std::string> prefix_successor(std::string_view prefix);

// "cursor/" + source.
std::string cursor_key(std::string_view source);

// "src/" + did: marks a label source that has labels in the store.
inline constexpr std::string_view kSourcePrefix = "src/";
std::string source_key(std::string_view did);

// Compact encoding of a subject's state (see the header comment). Labels and follow records
// are written in the order given; callers keep labels sorted by val and follows by rkey.
std::string encode_state(const subject_state& s);
// What decode_state fills in: everything, or the labels only (queries; the rest of the record
// is still checked, not kept).
enum class state_parts { all, labels };
// Strict decode of version 2 and of version 1 (schema 2: labels only); the error names `key`
// (the subject URI) and what was wrong.
result<subject_state> decode_state(std::string_view in, std::string_view key,
                                   state_parts parts = state_parts::all);

// Stamp: version byte 1 then three varint-length-prefixed strings.
std::string encode_stamp(const stamp& s);
result<stamp> decode_stamp(std::string_view in);

}  // namespace labeler::storage::keys
