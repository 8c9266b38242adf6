#include "src/atproto/label.hpp"

#include <algorithm>
#include <cstring>

#include "src/atproto/base64.hpp"
#include "src/atproto/cbor_writer.hpp"
#include "src/atproto/datetime.hpp"
#include "src/atproto/syntax.hpp"

namespace labeler::atproto {
namespace {

// Pre-encoded map keys (text, length 3).
constexpr std::string_view k_cid = "\x63" "cid", k_cts = "\x63" "cts", k_exp = "\x63" "exp",
                           k_neg = "\x63" "neg", k_sig = "\x63" "sig", k_src = "\x63" "src",
                           k_uri = "\x63" "uri", k_val = "\x63" "val", k_ver = "\x63" "ver";

void append_cbor_impl(std::string& out, const label& l, bool with_sig) {
    const bool neg = l.neg || l.neg_present;
    const bool sig = with_sig && l.sig.has_value();
    const std::uint64_t n = 5 + l.cid.has_value() + l.exp.has_value() + neg + sig;
    cbor::writer w(out);
    w.map(n);
    if (l.cid) {
        w.raw(k_cid);
        w.text(*l.cid);
    }
    w.raw(k_cts);
    w.text(l.cts);
    if (l.exp) {
        w.raw(k_exp);
        w.text(*l.exp);
    }
    if (neg) {
        w.raw(k_neg);
        w.boolean(l.neg);
    }
    if (sig) {
        w.raw(k_sig);
        w.bytes(std::span<const std::uint8_t>(*l.sig));
    }
    w.raw(k_src);
    w.text(l.src);
    w.raw(k_uri);
    w.text(l.uri);
    w.raw(k_val);
    w.text(l.val);
    w.raw(k_ver);
    w.int64(l.ver);
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is invalid.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const auto cont = [&](std::size_t k) { return i + k < s.size() && (b(k) & 0xc0) == 0x80; };
    const unsigned char c = b(0);
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if (!cont(1) || !cont(2)) return 0;
        if (c == 0xe0 && b(1) < 0xa0) return 0;   // overlong
        if (c == 0xed && b(1) >= 0xa0) return 0;  // surrogate
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (!cont(1) || !cont(2) || !cont(3)) return 0;
        if (c == 0xf0 && b(1) < 0x90) return 0;   // overlong
        if (c == 0xf4 && b(1) >= 0x90) return 0;  // > U+10FFFF
        return 4;
    }
    return 0;
}

bool is_valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = utf8_sequence(s, i);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

// Appends `s` as a JSON string literal. Invalid UTF-8 becomes U+FFFD so the output is always
// valid JSON.
void append_json_string(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out.push_back('"');
    std::size_t run = 0;  // start of the pending run of bytes copied verbatim
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            ++i;
            continue;
        }
        if (c >= 0x80) {
            if (const std::size_t n = utf8_sequence(s, i)) {
                i += n;
                continue;
            }
        }
        out.append(s.data() + run, i - run);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (c < 0x20) {
                    out += "\\u00";
                    out.push_back(hex[c >> 4]);
                    out.push_back(hex[c & 15]);
                } else {
                    out += "\xef\xbf\xbd";  // U+FFFD for an invalid byte
                }
        }
        ++i;
        run = i;
    }
    out.append(s.data() + run, s.size() - run);
    out.push_back('"');
}

error invalid(label_errc c, std::string msg) { return error(int(c), "label: " + std::move(msg)); }

// Minimal strict DAG-CBOR reader for the label map: shortest-form heads, definite lengths,
// no floats or tags, valid UTF-8 text. Used until a general decoder is shared.
struct reader {
    std::span<const std::uint8_t> in;
    std::size_t pos = 0;

    // Reads one head; false when truncated, indefinite, reserved or not shortest-form.
    bool head(std::uint8_t& major, std::uint64_t& arg) {
        if (pos >= in.size()) return false;
        const std::uint8_t ib = in[pos++];
        major = ib >> 5;
        const std::uint8_t ai = ib & 31;
        if (ai < 24) {
            arg = ai;
            return true;
        }
        if (ai > 27) return false;
        const std::size_t n = std::size_t(1) << (ai - 24);
        if (in.size() - pos < n) return false;
        arg = 0;
        for (std::size_t i = 0; i < n; ++i) arg = arg << 8 | in[pos++];
        const std::uint64_t min = n == 1 ? 24 : n == 2 ? 0x100 : n == 4 ? 0x10000 : 0x100000000ULL;
        return arg >= min;
    }
    bool string_body(std::uint64_t len, std::string_view& out) {
        if (len > in.size() - pos) return false;
        out = {reinterpret_cast<const char*>(in.data() + pos), std::size_t(len)};
        pos += std::size_t(len);
        return true;
    }
};

}  // namespace

std::string signing_bytes(const label& l) {
    std::string out;
    out.reserve(64 + l.src.size() + l.uri.size() + l.val.size() + l.cts.size() +
                (l.cid ? l.cid->size() + 5 : 0) + (l.exp ? l.exp->size() + 5 : 0));
    append_cbor_impl(out, l, false);
    return out;
}

void append_cbor(std::string& out, const label& l) { append_cbor_impl(out, l, true); }

std::string encode_cbor(const label& l) {
    std::string out;
    out.reserve(136 + l.src.size() + l.uri.size() + l.val.size() + l.cts.size() +
                (l.cid ? l.cid->size() + 5 : 0) + (l.exp ? l.exp->size() + 5 : 0));
    append_cbor_impl(out, l, true);
    return out;
}

void append_json(std::string& out, const label& l) {
    out += "{\"ver\":";
    out += std::to_string(l.ver);
    out += ",\"src\":";
    append_json_string(out, l.src);
    out += ",\"uri\":";
    append_json_string(out, l.uri);
    if (l.cid) {
        out += ",\"cid\":";
        append_json_string(out, *l.cid);
    }
    out += ",\"val\":";
    append_json_string(out, l.val);
    if (l.neg) out += ",\"neg\":true";
    out += ",\"cts\":";
    append_json_string(out, l.cts);
    if (l.exp) {
        out += ",\"exp\":";
        append_json_string(out, *l.exp);
    }
    if (l.sig) {
        out += ",\"sig\":{\"$bytes\":\"";
        out += base64_encode(std::span<const std::uint8_t>(*l.sig));
        out += "\"}";
    }
    out.push_back('}');
}

std::string to_json(const label& l) {
    std::string out;
    out.reserve(200 + l.src.size() + l.uri.size() + l.val.size());
    append_json(out, l);
    return out;
}

// Label keys in canonical order; decode_cbor's `seen` bits index this table.
constexpr std::string_view label_keys[] = {"cid", "cts", "exp", "neg", "sig",
                                           "src", "uri", "val", "ver"};

result<label> decode_cbor(std::span<const std::uint8_t> in) {
    using enum label_errc;
    reader r{in};
    std::uint8_t major = 0;
    std::uint64_t n = 0;
    if (!r.head(major, n) || major != cbor::major_map)
        return invalid(malformed, "not a canonical CBOR map");
    if (n > 9) return invalid(unknown_key, "too many keys (" + std::to_string(n) + ")");
    label l;
    l.ver = 0;
    unsigned seen = 0;  // bit per key, in key order
    std::string_view prev;
    for (std::uint64_t i = 0; i < n; ++i) {
        std::uint64_t len = 0;
        std::string_view key;
        if (!r.head(major, len) || major != cbor::major_text || !r.string_body(len, key))
            return invalid(malformed, "map key is not a text string");
        const auto* it = std::find(std::begin(label_keys), std::end(label_keys), key);
        if (it == std::end(label_keys)) {
            std::string shown(key.substr(0, 32));
            return invalid(unknown_key, "unknown key \"" +
                                            (is_valid_utf8(shown) ? shown : std::string("?")) +
                                            "\"");
        }
        if (i > 0 && !cbor::key_less(prev, key))
            return invalid(malformed, "map keys are not in canonical order or repeat");
        prev = key;
        const auto idx = unsigned(it - std::begin(label_keys));
        seen |= 1u << idx;
        std::uint64_t arg = 0;
        if (!r.head(major, arg)) return invalid(malformed, "truncated or non-canonical value");
        const std::string_view name = label_keys[idx];
        if (name == "neg") {
            if (major != cbor::major_simple || (arg != 20 && arg != 21))
                return invalid(wrong_type, "neg must be a boolean");
            l.neg = arg == 21;
            l.neg_present = true;
        } else if (name == "ver") {
            if (major == cbor::major_uint && arg <= std::uint64_t(INT64_MAX)) {
                l.ver = std::int64_t(arg);
            } else if (major == cbor::major_nint && arg <= std::uint64_t(INT64_MAX)) {
                l.ver = -1 - std::int64_t(arg);
            } else {
                return invalid(wrong_type, "ver must be an integer");
            }
        } else if (name == "sig") {
            std::string_view b;
            if (major != cbor::major_bytes || !r.string_body(arg, b))
                return invalid(wrong_type, "sig must be a byte string");
            if (b.size() != 64)
                return invalid(invalid_field,
                               "sig must be 64 bytes, got " + std::to_string(b.size()));
            l.sig.emplace();
            std::memcpy(l.sig->data(), b.data(), 64);
        } else {
            std::string_view t;
            if (major != cbor::major_text || !r.string_body(arg, t))
                return invalid(wrong_type, std::string(name) + " must be a text string");
            if (!is_valid_utf8(t)) return invalid(malformed, std::string(name) + " is not valid UTF-8");
            if (name == "cid") l.cid.emplace(t);
            else if (name == "cts") l.cts = t;
            else if (name == "exp") l.exp.emplace(t);
            else if (name == "src") l.src = t;
            else if (name == "uri") l.uri = t;
            else l.val = t;
        }
    }
    if (r.pos != in.size()) return invalid(malformed, "trailing bytes after the label");
    for (auto [bit, name] : {std::pair{8, "ver"}, {5, "src"}, {6, "uri"}, {7, "val"}, {1, "cts"}})
        if (!(seen & (1u << bit))) return invalid(missing_field, std::string(name) + " is missing");
    return l;
}

result<void> validate(const label& l) {
    using enum label_errc;
    if (l.ver != 1) return invalid(invalid_field, "ver must be 1, got " + std::to_string(l.ver));
    if (!is_valid_did(l.src)) return invalid(invalid_field, "src is not a DID");
    if (!is_valid_did(l.uri) && !is_valid_at_uri(l.uri))
        return invalid(invalid_field, "uri is neither a DID nor an at:// URI");
    if (l.cid && !is_valid_cid(*l.cid)) return invalid(invalid_field, "cid is not a CID");
    if (l.val.empty() || l.val.size() > 128)
        return invalid(invalid_field, "val must be 1 to 128 bytes, got " +
                                          std::to_string(l.val.size()));
    if (!is_valid_utf8(l.val)) return invalid(invalid_field, "val is not valid UTF-8");
    if (!is_valid_datetime(l.cts)) return invalid(invalid_field, "cts is not a datetime");
    if (l.exp && !is_valid_datetime(*l.exp))
        return invalid(invalid_field, "exp is not a datetime");
    return {};
}

}  // namespace labeler::atproto
