#include "src/atproto/label.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "src/atproto/base64.hpp"
#include "src/atproto/cbor.hpp"
#include "src/atproto/cbor_writer.hpp"
#include "src/atproto/datetime.hpp"
#include "src/atproto/json.hpp"
#include "src/atproto/syntax.hpp"

namespace labeler::atproto {
namespace {

// Pre-encoded map keys (text, length 3).
constexpr std::string_view k_cid =
                               "\x63"
                               "cid",
                           k_cts =
                               "\x63"
                               "cts",
                           k_exp =
                               "\x63"
                               "exp",
                           k_neg =
                               "\x63"
                               "neg",
                           k_sig =
                               "\x63"
                               "sig",
                           k_src =
                               "\x63"
                               "src",
                           k_uri =
                               "\x63"
                               "uri",
                           k_val =
                               "\x63"
                               "val",
                           k_ver =
                               "\x63"
                               "ver";

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

error invalid(label_errc c, std::string msg) {
    return error(int(c), "label: " + std::move(msg));
}

}  // namespace

std::string signing_bytes(const label& l) {
    std::string out;
    out.reserve(64 + l.src.size() + l.uri.size() + l.val.size() + l.cts.size() +
                (l.cid ? l.cid->size() + 5 : 0) + (l.exp ? l.exp->size() + 5 : 0));
    append_cbor_impl(out, l, false);
    return out;
}

void append_cbor(std::string& out, const label& l) {
    append_cbor_impl(out, l, true);
}

std::string encode_cbor(const label& l) {
    std::string out;
    out.reserve(136 + l.src.size() + l.uri.size() + l.val.size() + l.cts.size() +
                (l.cid ? l.cid->size() + 5 : 0) + (l.exp ? l.exp->size() + 5 : 0));
    append_cbor_impl(out, l, true);
    return out;
}

label_view view_of(const label& l) {
    label_view v;
    v.ver = l.ver;
    v.src = l.src;
    v.uri = l.uri;
    v.val = l.val;
    v.cts = l.cts;
    if (l.cid) v.cid = *l.cid;
    if (l.exp) v.exp = *l.exp;
    v.neg = l.neg;
    v.neg_present = l.neg_present;
    if (l.sig) v.sig.emplace(*l.sig);
    return v;
}

void append_json(std::string& out, const label_view& l) {
    out += "{\"ver\":";
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, l.ver);
    out.append(buf, end);
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
        base64_append(out, *l.sig);
        out += "\"}";
    }
    out.push_back('}');
}

void append_json(std::string& out, const label& l) { append_json(out, view_of(l)); }

std::string to_json(const label& l) {
    std::string out;
    out.reserve(200 + l.src.size() + l.uri.size() + l.val.size());
    append_json(out, l);
    return out;
}

// Label keys in canonical order; `seen` bits index this table.
constexpr std::string_view label_keys[] = {"cid", "cts", "exp", "neg", "sig",
                                           "src", "uri", "val", "ver"};
enum key_index { k_cid_i, k_cts_i, k_exp_i, k_neg_i, k_sig_i, k_src_i, k_uri_i, k_val_i, k_ver_i };

// Every label key has 3 letters: index by them without a table search.
int key_of(std::string_view k) {
    if (k.size() != 3) return -1;
    int i = -1;
    switch (k[0]) {
    case 'c': i = k[1] == 'i' ? k_cid_i : k_cts_i; break;
    case 'e': i = k_exp_i; break;
    case 'n': i = k_neg_i; break;
    case 's': i = k[1] == 'i' ? k_sig_i : k_src_i; break;
    case 'u': i = k_uri_i; break;
    case 'v': i = k[1] == 'a' ? k_val_i : k_ver_i; break;
    default: return -1;
    }
    return label_keys[i] == k ? i : -1;
}

result<label_view> decode_cbor_view(std::span<const std::uint8_t> in) {
    using enum label_errc;
    // One decoder per thread: its arena is reused, so steady-state decoding does not allocate.
    // The values it returns point into `in`, not into the arena, for text and byte strings.
    thread_local cbor::decoder dec(
        cbor::limits{.max_depth = 2, .max_container_items = 64, .max_total_bytes = 64 * 1024});
    auto v = dec.decode(in);
    if (!v) return invalid(malformed, v.error().message);
    if (!v->is_map()) return invalid(malformed, "not a CBOR map");
    label_view l;
    bool seen[std::size(label_keys)] = {};
    for (auto [key, val] : v->entries()) {
        const int idx = key_of(key);
        if (idx < 0) {
            std::string shown(key.substr(0, 32));
            return invalid(unknown_key, "unknown key \"" + shown + "\"");
        }
        seen[idx] = true;  // the decoder already rejected duplicate and unsorted keys
        switch (idx) {
        case k_neg_i:
            if (!val.is_bool()) return invalid(wrong_type, "neg must be a boolean");
            l.neg = val.as_bool();
            l.neg_present = true;
            break;
        case k_ver_i:
            if (!val.is_int()) return invalid(wrong_type, "ver must be an integer");
            l.ver = val.as_int();
            break;
        case k_sig_i: {
            if (!val.is_bytes()) return invalid(wrong_type, "sig must be a byte string");
            const auto b = val.as_bytes();
            if (b.size() != 64)
                return invalid(invalid_field,
                               "sig must be 64 bytes, got " + std::to_string(b.size()));
            l.sig.emplace(b.subspan<0, 64>());
            break;
        }
        default: {
            if (!val.is_text())
                return invalid(wrong_type, std::string(label_keys[idx]) + " must be a text string");
            const std::string_view t = val.as_text();
            switch (idx) {
            case k_cid_i: l.cid = t; break;
            case k_cts_i: l.cts = t; break;
            case k_exp_i: l.exp = t; break;
            case k_src_i: l.src = t; break;
            case k_uri_i: l.uri = t; break;
            default: l.val = t; break;
            }
        }
        }
    }
    for (int required : {k_ver_i, k_src_i, k_uri_i, k_val_i, k_cts_i})
        if (!seen[required])
            return invalid(missing_field, std::string(label_keys[required]) + " is missing");
    return l;
}

result<label> decode_cbor(std::span<const std::uint8_t> in) {
    auto v = decode_cbor_view(in);
    if (!v) return v.error();
    label l;
    l.ver = v->ver;
    l.src = v->src;
    l.uri = v->uri;
    l.val = v->val;
    l.cts = v->cts;
    if (v->cid) l.cid.emplace(*v->cid);
    if (v->exp) l.exp.emplace(*v->exp);
    l.neg = v->neg;
    l.neg_present = v->neg_present;
    if (v->sig) {
        l.sig.emplace();
        std::memcpy(l.sig->data(), v->sig->data(), 64);
    }
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
        return invalid(invalid_field,
                       "val must be 1 to 128 bytes, got " + std::to_string(l.val.size()));
    if (!is_valid_utf8(l.val)) return invalid(invalid_field, "val is not valid UTF-8");
    if (!is_valid_datetime(l.cts)) return invalid(invalid_field, "cts is not a datetime");
    if (l.exp && !is_valid_datetime(*l.exp)) return invalid(invalid_field, "exp is not a datetime");
    return {};
}

}  // namespace labeler::atproto
