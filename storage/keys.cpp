#include "storage/keys.hpp"

#include <fmt/format.h>

namespace labeler::storage::keys {
namespace {

void put_varint(std::string& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.push_back(char(std::uint8_t(v) | 0x80));
        v >>= 7;
    }
    out.push_back(char(v));
}

void put_str(std::string& out, std::string_view s) {
    put_varint(out, s.size());
    out.append(s);
}

// Sequential reader over an encoded value; every getter fails (returns false) past the end.
class reader {
public:
    explicit reader(std::string_view in) : in_(in) {}
    bool varint(std::uint64_t& v) {
        v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos_ >= in_.size()) return false;
            auto b = std::uint8_t(in_[pos_++]);
            v |= std::uint64_t(b & 0x7f) << shift;
            if (!(b & 0x80)) return true;
        }
        return false;
    }
    bool str(std::string& s) {
        std::uint64_t n = 0;
        if (!varint(n) || n > in_.size() - pos_) return false;
        s.assign(in_.substr(pos_, n));
        pos_ += n;
        return true;
    }
    bool byte(std::uint8_t& b) {
        if (pos_ >= in_.size()) return false;
        b = std::uint8_t(in_[pos_++]);
        return true;
    }
    bool done() const { return pos_ == in_.size(); }
    std::size_t remaining() const { return in_.size() - pos_; }

private:
    std::string_view in_;
    std::size_t pos_ = 0;
};

std::string printable(std::string_view s) {
    std::string out;
    for (unsigned char c : s.substr(0, 200)) {
        if (c >= 0x20 && c < 0x7f) out.push_back(char(c));
        else out += fmt::format("\\x{:02x}", c);
    }
    if (s.size() > 200) out += "...";
    return out;
}

}  // namespace

void append_be8(std::string& out, std::uint64_t v) {
    for (int i = 7; i >= 0; --i) out.push_back(char(std::uint8_t(v >> (8 * i))));
}

std::string be8(std::uint64_t v) {
    std::string s;
    s.reserve(8);
    append_be8(s, v);
    return s;
}

std::optional<std::uint64_t> read_be8(std::string_view in) {
    if (in.size() != 8) return std::nullopt;
    std::uint64_t v = 0;
    for (unsigned char c : in) v = (v << 8) | c;
    return v;
}

std::string name_seq(std::string_view name, std::uint64_t seq) {
    std::string k;
    k.reserve(name.size() + 9);
    k.append(name);
    k.push_back('\0');
    append_be8(k, seq);
    return k;
}

std::optional<std::pair<std::string_view, std::uint64_t>> split_name_seq(std::string_view key) {
    if (key.size() < 9 || key[key.size() - 9] != '\0') return std::nullopt;
    auto name = key.substr(0, key.size() - 9);
    if (!key_safe(name)) return std::nullopt;
    return std::pair{name, *read_be8(key.substr(key.size() - 8))};
}

std::string follow_key(std::string_view follower, std::string_view rkey) {
    std::string k;
    k.reserve(follower.size() + 1 + rkey.size());
    k.append(follower);
    k.push_back('\0');
    k.append(rkey);
    return k;
}

std::string follow_prefix(std::string_view follower) {
    std::string k(follower);
    k.push_back('\0');
    return k;
}

std::optional<std::pair<std::string_view, std::string_view>> split_follow_key(std::string_view k) {
    auto pos = k.find('\0');
    if (pos == std::string_view::npos) return std::nullopt;
    auto rkey = k.substr(pos + 1);
    if (!key_safe(rkey)) return std::nullopt;
    return std::pair{k.substr(0, pos), rkey};
}

std::string current_value(std::string_view uri, std::string_view src) {
    return follow_key(uri, src);  // same shape: a + 0x00 + b
}

std::optional<std::pair<std::string_view, std::string_view>> split_current(std::string_view v) {
    return split_follow_key(v);
}

std::optional<std::string> prefix_successor(std::string_view prefix) {
    std::string s(prefix);
    while (!s.empty()) {
        auto c = std::uint8_t(s.back());
        if (c != 0xff) {
            s.back() = char(c + 1);
            return s;
        }
        s.pop_back();
    }
    return std::nullopt;
}

std::string cursor_key(std::string_view source) {
    std::string k = "cursor/";
    k.append(source);
    return k;
}

std::string source_key(std::string_view did) {
    std::string k(kSourcePrefix);
    k.append(did);
    return k;
}

std::string encode_state(const subject_state& s) {
    std::string out;
    out.reserve(4 + s.labels.size() * 48 + s.follows.size() * 48);
    out.push_back(char(2));
    put_varint(out, s.labels.size());
    for (auto& l : s.labels) {
        put_str(out, l.val);
        put_varint(out, l.seq);
        put_str(out, l.cts);
        std::uint8_t flags = (l.neg ? 1 : 0) | (l.exp ? 2 : 0);
        out.push_back(char(flags));
        if (l.exp) put_str(out, *l.exp);
    }
    out.push_back(char(s.account));
    put_varint(out, s.follows.size());
    for (auto& f : s.follows) {
        put_str(out, f.rkey);
        put_str(out, f.subject);
    }
    return out;
}

result<subject_state> decode_state(std::string_view in, std::string_view key, state_parts parts) {
    auto bad = [&](std::string_view what) {
        return error(int(store_errc::corrupt),
                     fmt::format("corrupt state record for subject \"{}\": {}", printable(key), what));
    };
    reader r(in);
    std::uint8_t version = 0;
    if (!r.byte(version)) return bad("empty value");
    if (version != 1 && version != 2) return bad(fmt::format("unknown encoding version {}", version));
    std::uint64_t n = 0;
    if (!r.varint(n)) return bad("truncated label count");
    if (n > r.remaining()) return bad("label count larger than the record");
    subject_state st;
    st.labels.reserve(n);
    for (std::uint64_t i = 0; i < n; ++i) {
        held_label l;
        std::uint8_t flags = 0;
        if (!r.str(l.val) || !r.varint(l.seq) || !r.str(l.cts) || !r.byte(flags))
            return bad(fmt::format("truncated label {}", i));
        if (flags & ~std::uint8_t(3)) return bad(fmt::format("unknown flags in label {}", i));
        l.neg = flags & 1;
        if (flags & 2) {
            std::string exp;
            if (!r.str(exp)) return bad(fmt::format("truncated exp in label {}", i));
            l.exp = std::move(exp);
        }
        st.labels.push_back(std::move(l));
    }
    if (version == 2) {  // version 1 (schema 2) held labels only
        std::uint8_t account = 0;
        if (!r.byte(account)) return bad("truncated account status");
        if (account > std::uint8_t(account_status::other_inactive))
            return bad(fmt::format("unknown account status {}", account));
        st.account = account_status(account);
        if (!r.varint(n)) return bad("truncated follow record count");
        if (n > r.remaining()) return bad("follow record count larger than the record");
        if (parts == state_parts::all) st.follows.reserve(n);
        std::string rkey, subject;
        for (std::uint64_t i = 0; i < n; ++i) {
            if (!r.str(rkey) || !r.str(subject)) return bad(fmt::format("truncated follow record {}", i));
            if (rkey.empty() || !key_safe(rkey)) return bad(fmt::format("bad rkey in follow record {}", i));
            if (parts == state_parts::all) {
                if (!st.follows.empty() && !(st.follows.back().rkey < rkey))
                    return bad("follow records out of order");
                st.follows.push_back({rkey, subject});
            }
        }
    }
    if (!r.done()) return bad("trailing bytes");
    return st;
}

std::string encode_stamp(const stamp& s) {
    std::string out;
    out.push_back(char(1));
    put_str(out, s.environment);
    put_str(out, s.labeler_did);
    put_str(out, s.key_fingerprint);
    return out;
}

result<stamp> decode_stamp(std::string_view in) {
    reader r(in);
    std::uint8_t version = 0;
    stamp s;
    if (!r.byte(version) || version != 1 || !r.str(s.environment) || !r.str(s.labeler_did) ||
        !r.str(s.key_fingerprint) || !r.done())
        return error(int(store_errc::corrupt), "corrupt environment stamp in meta/stamp");
    return s;
}

}  // namespace labeler::storage::keys
