#pragma once
// label: com.atproto.label.defs#label — the type, its canonical DAG-CBOR forms, its JSON form.
//
// Signing bytes (spec §Signatures): every present schema field except `sig`, `ver` included,
// `neg` omitted when false for labels we issue. For labels received from elsewhere, `neg_present`
// preserves whether `neg:false` was on the wire so verification re-encodes exactly what was
// signed. Keys are 3 chars, so DAG-CBOR order is alphabetical: cid,cts,exp,neg,sig,src,uri,val,ver.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "src/common/result.hpp"

namespace labeler::atproto {

// error::code values of decode_cbor() and validate() errors.
enum class label_errc : int {
    malformed = 1,  // not one well-formed DAG-CBOR map (or trailing bytes)
    unknown_key,    // a key outside cid,cts,exp,neg,sig,src,uri,val,ver
    wrong_type,     // a field of the wrong CBOR type
    missing_field,  // ver, src, uri, val or cts absent
    invalid_field,  // a field with a value the lexicon forbids
};

struct label {
    std::int64_t ver = 1;
    std::string src;                 // issuer DID
    std::string uri;                 // subject (DID or at:// URI)
    std::optional<std::string> cid;  // record version pin (string, not a link)
    std::string val;                 // <= 128 bytes
    bool neg = false;
    bool neg_present = false;        // decoded: `neg` key was present (even if false)
    std::string cts;                 // datetime
    std::optional<std::string> exp;  // datetime
    std::optional<std::array<std::uint8_t, 64>> sig;  // compact r||s
};

// Canonical DAG-CBOR of the label without `sig` (what is hashed and signed).
std::string signing_bytes(const label& l);
// Canonical DAG-CBOR of the whole label, `sig` included when present.
std::string encode_cbor(const label& l);
void append_cbor(std::string& out, const label& l);
// A decoded label whose strings point into the CBOR it came from (or into a label): valid only
// while that storage lives. For hot paths (queryLabels renders stored labels without copies).
struct label_view {
    std::int64_t ver = 1;
    std::string_view src, uri, val, cts;
    std::optional<std::string_view> cid, exp;
    bool neg = false;
    bool neg_present = false;
    std::optional<std::span<const std::uint8_t, 64>> sig;
};
label_view view_of(const label& l);

// Strict decode of one DAG-CBOR label (unknown keys rejected, types checked, no trailing bytes).
result<label> decode_cbor(std::span<const std::uint8_t> in);
// The same checks, without copying: the view points into `in`.
result<label_view> decode_cbor_view(std::span<const std::uint8_t> in);
inline result<label> decode_cbor(std::string_view in) {
    return decode_cbor({reinterpret_cast<const std::uint8_t*>(in.data()), in.size()});
}

// JSON exactly as com.atproto.label.defs#label, e.g.
// {"ver":1,"src":"did:…","uri":"did:…","val":"kichi","cts":"…","sig":{"$bytes":"…"}}
// `neg` is written only when true; `cid`/`exp` only when present.
void append_json(std::string& out, const label& l);
void append_json(std::string& out, const label_view& l);
std::string to_json(const label& l);

// Lexicon validation of a label (did/uri/datetime formats, val length, ver == 1, sig length).
result<void> validate(const label& l);

}  // namespace labeler::atproto
