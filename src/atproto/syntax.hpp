#pragma once
// syntax: atproto identifier syntax checks (DID, handle, AT-URI, NSID, record key, TID, CID
// string, custom label value), following the atproto specs and the interop test vectors
// (bluesky-social/atproto-interop-tests syntax/*.txt).
//
// Pure functions on untrusted input: no allocation, no exceptions, thread-safe.
#include <string_view>

namespace labeler::atproto {

// did:<method>:<id>; method [a-z]+, id [A-Za-z0-9._:%-]+ not ending in ':' or '%'; <= 2048 chars.
bool is_valid_did(std::string_view s);
// Handle: DNS name of >= 2 labels, each 1..63 [A-Za-z0-9-] not starting/ending with '-', last
// label starting with a letter; <= 253 chars.
bool is_valid_handle(std::string_view s);
// NSID: >= 3 segments; domain part reversed-DNS labels (the first starts with a letter), name
// segment [A-Za-z][A-Za-z0-9]{0,62}; <= 317 chars in all.
bool is_valid_nsid(std::string_view s);
// Record key: 1..512 chars of [A-Za-z0-9._:~-], not "." or "..".
bool is_valid_record_key(std::string_view s);
// TID: 13 chars base32-sortable, first char in [2-7a-j] (high bit clear).
bool is_valid_tid(std::string_view s);
// AT-URI: at://<did|handle>[/<nsid>[/<record-key>]]; no query, no fragment, no trailing slash;
// <= 8192 chars.
bool is_valid_at_uri(std::string_view s);
// CID string as the lexicon `cid` format: [A-Za-z0-9+=]{8,256}, not CIDv0 ("Qm…"); when the
// multibase prefix is 'b' (base32 lower, the atproto form) the CIDv1 structure is decoded and
// checked too (version 1, codec, multihash with a digest of the declared length).
bool is_valid_cid(std::string_view s);
// Custom label value: ^[a-z-]+$, not starting or ending with '-', <= 128 bytes.
bool is_valid_label_value(std::string_view s);

}  // namespace labeler::atproto
