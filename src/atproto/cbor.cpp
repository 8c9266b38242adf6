#include "src/atproto/cbor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <limits>

namespace labeler::atproto::cbor {

// ---------------------------------------------------------------------------------------------
// value

value value::boolean(bool b) {
    value v;
    v.kind_ = kind::boolean;
    v.u_.b = b;
    return v;
}

value value::integer(std::int64_t i) {
    value v;
    v.kind_ = kind::integer;
    v.u_.i = i;
    return v;
}

value value::text(std::string_view s) {
    assert(s.size() <= std::numeric_limits<std::uint32_t>::max());
    value v;
    v.kind_ = kind::text;
    v.size_ = std::uint32_t(s.size());
    v.u_.p = reinterpret_cast<const std::uint8_t*>(s.data());
    return v;
}

value value::bytes(std::span<const std::uint8_t> b) {
    assert(b.size() <= std::numeric_limits<std::uint32_t>::max());
    value v;
    v.kind_ = kind::bytes;
    v.size_ = std::uint32_t(b.size());
    v.u_.p = b.data();
    return v;
}

value value::bytes(std::string_view b) {
    return bytes({reinterpret_cast<const std::uint8_t*>(b.data()), b.size()});
}

value value::link(std::span<const std::uint8_t> binary_cid) {
    value v = bytes(binary_cid);
    v.kind_ = kind::link;
    return v;
}

value value::array(std::span<const value> items) {
    value v;
    v.kind_ = kind::array;
    v.size_ = std::uint32_t(items.size());
    v.u_.c = items.data();
    return v;
}

value value::map(std::span<const value> kv) {
    assert(kv.size() % 2 == 0);
    value v;
    v.kind_ = kind::map;
    v.size_ = std::uint32_t(kv.size() / 2);
    v.u_.c = kv.data();
    return v;
}

std::string_view value::as_text() const noexcept {
    if (kind_ != kind::text) return {};
    return {reinterpret_cast<const char*>(u_.p), size_};
}

std::span<const std::uint8_t> value::as_bytes() const noexcept {
    if (kind_ != kind::bytes) return {};
    return {u_.p, size_};
}

std::span<const std::uint8_t> value::as_link() const noexcept {
    if (kind_ != kind::link) return {};
    return {u_.p, size_};
}

result<cid> value::as_cid() const {
    if (kind_ != kind::link) return fail("cbor: value is not a CID link");
    return cid::from_binary(as_link());
}

std::span<const value> value::items() const noexcept {
    if (kind_ != kind::array || size_ == 0) return {};
    return {u_.c, size_};
}

map_view value::entries() const noexcept {
    if (kind_ != kind::map) return {nullptr, 0};
    return {u_.c, size_};
}

const value* value::find(std::string_view key) const noexcept {
    if (kind_ != kind::map) return nullptr;
    for (std::uint32_t i = 0; i < size_; ++i) {
        const value& k = u_.c[2 * i];
        if (k.kind_ == kind::text && k.size_ == key.size() &&
            (key.empty() || std::memcmp(k.u_.p, key.data(), key.size()) == 0)) {
            return &u_.c[2 * i + 1];
        }
    }
    return nullptr;
}

std::optional<std::string_view> value::get_text(std::string_view key) const noexcept {
    const value* v = find(key);
    if (!v || !v->is_text()) return std::nullopt;
    return v->as_text();
}

std::optional<std::int64_t> value::get_int(std::string_view key) const noexcept {
    const value* v = find(key);
    if (!v || !v->is_int()) return std::nullopt;
    return v->u_.i;
}

std::optional<bool> value::get_bool(std::string_view key) const noexcept {
    const value* v = find(key);
    if (!v || !v->is_bool()) return std::nullopt;
    return v->u_.b;
}

bool operator==(const value& a, const value& b) noexcept {
    if (a.kind_ != b.kind_) return false;
    switch (a.kind_) {
        case kind::null:
            return true;
        case kind::boolean:
            return a.u_.b == b.u_.b;
        case kind::integer:
            return a.u_.i == b.u_.i;
        case kind::bytes:
        case kind::text:
        case kind::link:
            return a.size_ == b.size_ &&
                   (a.size_ == 0 || std::memcmp(a.u_.p, b.u_.p, a.size_) == 0);
        case kind::array:
        case kind::map: {
            if (a.size_ != b.size_) return false;
            const std::size_t n = a.kind_ == kind::map ? 2 * std::size_t(a.size_) : a.size_;
            for (std::size_t i = 0; i < n; ++i) {
                if (!(a.u_.c[i] == b.u_.c[i])) return false;
            }
            return true;
        }
    }
    return false;
}

// ---------------------------------------------------------------------------------------------
// UTF-8

bool valid_utf8(std::string_view sv) noexcept {
    auto s = reinterpret_cast<const std::uint8_t*>(sv.data());
    const auto* end = s + sv.size();
    while (s < end) {
        // ASCII fast path, 8 bytes at a time.
        while (end - s >= 8) {
            std::uint64_t w;
            std::memcpy(&w, s, 8);
            if (w & 0x8080808080808080ull) break;
            s += 8;
        }
        if (s == end) break;
        const std::uint8_t c = *s;
        if (c < 0x80) {
            ++s;
            continue;
        }
        std::size_t n;
        std::uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;  // continuation byte, overlong 2-byte lead (c0/c1) or > f4
        }
        if (std::size_t(end - s) <= n) return false;
        for (std::size_t i = 1; i <= n; ++i) {
            if ((s[i] & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (s[i] & 0x3f);
        }
        if (n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) return false;
        if (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) return false;
        s += n + 1;
    }
    return true;
}

// ---------------------------------------------------------------------------------------------
// arena

namespace detail {

// Chunked storage for array/map children. Chunks never move, so pointers handed out stay valid
// until reset(); reset() keeps the chunks for reuse.
struct arena {
    static constexpr std::size_t first_chunk = 256;
    static constexpr std::size_t max_chunk = 1 << 16;

    struct chunk {
        std::unique_ptr<value[]> data;
        std::size_t size;
    };
    std::vector<chunk> chunks;
    std::size_t cur = 0;
    std::size_t used = 0;

    value* alloc(std::size_t n) {
        if (n == 0) return nullptr;
        while (cur < chunks.size()) {
            if (chunks[cur].size - used >= n) {
                value* p = chunks[cur].data.get() + used;
                used += n;
                return p;
            }
            ++cur;
            used = 0;
        }
        std::size_t size =
            chunks.empty() ? first_chunk : std::min(chunks.back().size * 2, std::size_t(max_chunk));
        size = std::max(size, n);
        chunks.push_back({std::make_unique<value[]>(size), size});
        cur = chunks.size() - 1;
        used = n;
        return chunks.back().data.get();
    }
    void reset() noexcept {
        cur = 0;
        used = 0;
    }
};

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// parser

namespace {

constexpr std::uint64_t int64_max = std::uint64_t(std::numeric_limits<std::int64_t>::max());

const char* major_name(std::uint8_t m) {
    static constexpr const char* names[] = {
        "unsigned integer", "negative integer", "byte string", "text string", "array", "map", "tag",
        "simple/float"};
    return names[m & 7];
}

struct parser {
    const std::uint8_t* begin;
    const std::uint8_t* p;
    const std::uint8_t* end;
    std::size_t base;
    const limits& lim;
    detail::arena& ar;
    decode_errc code{};
    std::string msg;

    std::size_t offset_of(const std::uint8_t* at) const { return base + std::size_t(at - begin); }

    template <class... A>
    bool fail_at(const std::uint8_t* at, decode_errc c, fmt::format_string<A...> f, A&&... a) {
        code = c;
        msg = fmt::format("dag-cbor: {} at offset {}", fmt::format(f, std::forward<A>(a)...),
                          offset_of(at));
        return false;
    }

    // Reads the head of a non-simple item (major 0..6): checks shortest form and definite length.
    bool head(std::uint8_t& major, std::uint64_t& arg) {
        const std::uint8_t* at = p;
        if (p == end) return fail_at(at, decode_errc::truncated, "unexpected end of input");
        const std::uint8_t ib = *p;
        major = ib >> 5;
        const std::uint8_t ai = ib & 31;
        if (ai < 24) {
            arg = ai;
            ++p;
            return true;
        }
        if (ai == 31) {
            return fail_at(at, decode_errc::indefinite_length,
                           "indefinite-length {} is not allowed", major_name(major));
        }
        if (ai > 27) {
            return fail_at(at, decode_errc::reserved_info, "reserved additional info {}", ai);
        }
        const std::size_t n = std::size_t(1) << (ai - 24);
        if (std::size_t(end - p) < 1 + n) {
            return fail_at(at, decode_errc::truncated, "truncated {} head", major_name(major));
        }
        std::uint64_t v = 0;
        for (std::size_t i = 1; i <= n; ++i) v = (v << 8) | p[i];
        const std::uint64_t min = ai == 24   ? 24
                                  : ai == 25 ? 0x100
                                  : ai == 26 ? 0x10000
                                             : 0x100000000ull;
        if (v < min) {
            return fail_at(at, decode_errc::non_shortest,
                           "{} head is not in shortest form ({} in {} bytes)", major_name(major), v,
                           n);
        }
        p += 1 + n;
        arg = v;
        return true;
    }

    bool need(const std::uint8_t* at, std::uint64_t len, const char* what) {
        if (std::uint64_t(end - p) < len) {
            return fail_at(at, decode_errc::truncated, "truncated {} ({} bytes declared, {} left)",
                           what, len, std::size_t(end - p));
        }
        return true;
    }

    bool text_at(const std::uint8_t* at, std::uint64_t len, value& out) {
        if (!need(at, len, "text string")) return false;
        const std::string_view s(reinterpret_cast<const char*>(p), len);
        if (!valid_utf8(s))
            return fail_at(at, decode_errc::bad_utf8, "invalid UTF-8 in text string");
        out = value::text(s);
        p += len;
        return true;
    }

    bool container(const std::uint8_t* at, std::uint64_t n, std::uint32_t depth, bool is_map) {
        if (depth >= lim.max_depth) {
            return fail_at(at, decode_errc::limit, "nesting deeper than {}", lim.max_depth);
        }
        if (n > lim.max_container_items) {
            return fail_at(at, decode_errc::limit, "{} of {} items exceeds the limit of {}",
                           is_map ? "map" : "array", n, lim.max_container_items);
        }
        // Every item takes at least one byte: reject impossible counts before allocating.
        if (n > std::uint64_t(end - p) / (is_map ? 2 : 1)) {
            return fail_at(at, decode_errc::truncated,
                           "truncated {} ({} items declared, {} bytes left)",
                           is_map ? "map" : "array", n, std::size_t(end - p));
        }
        return true;
    }

    bool item(value& out, std::uint32_t depth) {
        const std::uint8_t* at = p;
        if (p == end) return fail_at(at, decode_errc::truncated, "unexpected end of input");
        const std::uint8_t ib = *p;
        if (ib >= 0xe0) {
            switch (ib) {
                case 0xf4:
                    out = value::boolean(false);
                    ++p;
                    return true;
                case 0xf5:
                    out = value::boolean(true);
                    ++p;
                    return true;
                case 0xf6:
                    out = value::null();
                    ++p;
                    return true;
                case 0xf7:
                    return fail_at(at, decode_errc::bad_simple, "'undefined' is not allowed");
                case 0xf9:
                case 0xfa:
                case 0xfb:
                    return fail_at(at, decode_errc::float_value, "floats are not allowed ({}-bit)",
                                   ib == 0xf9   ? 16
                                   : ib == 0xfa ? 32
                                                : 64);
                case 0xff:
                    return fail_at(at, decode_errc::indefinite_length, "unexpected 'break'");
                default:
                    if ((ib & 31) >= 28 && (ib & 31) <= 30) {
                        return fail_at(at, decode_errc::reserved_info,
                                       "reserved additional info {}", ib & 31);
                    }
                    return fail_at(at, decode_errc::bad_simple,
                                   "simple value {} is not allowed (only false, true, null)",
                                   (ib & 31) == 24 && p + 1 < end ? p[1] : (ib & 31));
            }
        }
        std::uint8_t major;
        std::uint64_t arg;
        if (!head(major, arg)) return false;
        switch (major) {
            case major_uint:
                if (arg > int64_max) {
                    return fail_at(at, decode_errc::int_range, "integer {} is outside int64", arg);
                }
                out = value::integer(std::int64_t(arg));
                return true;
            case major_nint:
                if (arg > int64_max) {
                    return fail_at(at, decode_errc::int_range, "integer -1-{} is outside int64",
                                   arg);
                }
                out = value::integer(-1 - std::int64_t(arg));
                return true;
            case major_bytes:
                if (!need(at, arg, "byte string")) return false;
                out = value::bytes(std::span<const std::uint8_t>(p, arg));
                p += arg;
                return true;
            case major_text:
                return text_at(at, arg, out);
            case major_array: {
                if (!container(at, arg, depth, false)) return false;
                value* slots = ar.alloc(arg);
                for (std::uint64_t i = 0; i < arg; ++i) {
                    if (!item(slots[i], depth + 1)) return false;
                }
                out = value::array(std::span<const value>(slots, arg));
                return true;
            }
            case major_map: {
                if (!container(at, arg, depth, true)) return false;
                value* slots = ar.alloc(2 * arg);
                std::string_view prev;
                for (std::uint64_t i = 0; i < arg; ++i) {
                    const std::uint8_t* kat = p;
                    std::uint8_t kmajor;
                    std::uint64_t klen;
                    if (!head(kmajor, klen)) return false;
                    if (kmajor != major_text) {
                        return fail_at(kat, decode_errc::bad_key,
                                       "map key is a {}, not a text string", major_name(kmajor));
                    }
                    if (!text_at(kat, klen, slots[2 * i])) return false;
                    const std::string_view key = slots[2 * i].as_text();
                    if (i > 0 && !key_less(prev, key)) {
                        if (key == prev) {
                            return fail_at(kat, decode_errc::bad_key, "duplicate map key \"{}\"",
                                           key);
                        }
                        return fail_at(kat, decode_errc::bad_key,
                                       "map key \"{}\" is out of order (after \"{}\"; keys sort "
                                       "by length, then bytewise)",
                                       key, prev);
                    }
                    prev = key;
                    if (!item(slots[2 * i + 1], depth + 1)) return false;
                }
                out = value::map(std::span<const value>(slots, 2 * arg));
                return true;
            }
            case major_tag: {
                if (arg != 42) {
                    return fail_at(at, decode_errc::bad_tag, "tag {} is not allowed (only 42)",
                                   arg);
                }
                const std::uint8_t* cat = p;
                std::uint8_t cmajor;
                std::uint64_t len;
                if (!head(cmajor, len)) return false;
                if (cmajor != major_bytes) {
                    return fail_at(cat, decode_errc::bad_tag,
                                   "tag 42 content is a {}, not a byte string", major_name(cmajor));
                }
                if (!need(cat, len, "CID link")) return false;
                if (len == 0 || p[0] != 0x00) {
                    return fail_at(cat, decode_errc::bad_tag,
                                   "CID link does not start with the 0x00 multibase prefix");
                }
                const std::span<const std::uint8_t> bin(p + 1, len - 1);
                auto n = cid::binary_length(bin);
                if (!n) {
                    return fail_at(cat, decode_errc::bad_tag, "invalid CID link ({})",
                                   n.error().message);
                }
                if (*n != bin.size()) {
                    return fail_at(cat, decode_errc::bad_tag, "CID link has {} trailing bytes",
                                   bin.size() - *n);
                }
                out = value::link(bin);
                p += len;
                return true;
            }
        }
        return fail_at(at, decode_errc::bad_simple, "unreachable major type");
    }
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// decoder

decoder::decoder(limits lim) : limits_(lim), arena_(std::make_unique<detail::arena>()) {}
decoder::~decoder() = default;
decoder::decoder(decoder&&) noexcept = default;
decoder& decoder::operator=(decoder&&) noexcept = default;

void decoder::clear() noexcept {
    arena_->reset();
}

void decoder::release() noexcept {
    *arena_ = detail::arena{};
}

result<prefix_item> decoder::decode_at(std::span<const std::uint8_t> in, std::size_t base) {
    if (in.size() > limits_.max_total_bytes || in.size() > 0xffffffffu) {
        return error(int(decode_errc::limit),
                     fmt::format("dag-cbor: input of {} bytes exceeds the limit of {}", in.size(),
                                 limits_.max_total_bytes));
    }
    parser ps{in.data(), in.data(), in.data() + in.size(), base, limits_, *arena_, {}, {}};
    prefix_item out;
    if (!ps.item(out.item, 0)) return error(int(ps.code), std::move(ps.msg));
    out.consumed = std::size_t(ps.p - in.data());
    return out;
}

result<prefix_item> decoder::decode_prefix(std::span<const std::uint8_t> in) {
    return decode_at(in, 0);
}

result<value> decoder::decode(std::span<const std::uint8_t> in) {
    clear();
    auto r = decode_at(in, 0);
    if (!r) return r.error();
    if (r->consumed != in.size()) {
        return error(int(decode_errc::trailing_bytes),
                     fmt::format("dag-cbor: {} trailing bytes after the item at offset {}",
                                 in.size() - r->consumed, r->consumed));
    }
    return r->item;
}

result<frame> decoder::decode_frame(std::span<const std::uint8_t> in) {
    clear();
    auto h = decode_at(in, 0);
    if (!h) return h.error();
    auto b = decode_at(in.subspan(h->consumed), h->consumed);
    if (!b) return b.error();
    const std::size_t used = h->consumed + b->consumed;
    if (used != in.size()) {
        return error(int(decode_errc::trailing_bytes),
                     fmt::format("dag-cbor: {} trailing bytes after the frame body at offset {}",
                                 in.size() - used, used));
    }
    return frame{h->item, b->item};
}

// ---------------------------------------------------------------------------------------------
// encoder

void encode_to(writer& w, const value& v) {
    switch (v.type()) {
        case kind::null:
            w.null();
            return;
        case kind::boolean:
            w.boolean(v.as_bool());
            return;
        case kind::integer:
            w.int64(v.as_int());
            return;
        case kind::bytes:
            w.bytes(v.as_bytes());
            return;
        case kind::text:
            w.text(v.as_text());
            return;
        case kind::link:
            w.link(v.as_link());
            return;
        case kind::array:
            w.array(v.size());
            for (const value& item : v.items()) encode_to(w, item);
            return;
        case kind::map: {
            const map_view m = v.entries();
            w.map(m.size());
            bool sorted = true;
            for (std::size_t i = 1; i < m.size() && sorted; ++i) {
                sorted = key_less(m[i - 1].key, m[i].key);
            }
            if (sorted) {
                for (auto [k, val] : m) {
                    w.text(k);
                    encode_to(w, val);
                }
                return;
            }
            std::vector<std::uint32_t> order(m.size());
            for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
            std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
                return key_less(m[a].key, m[b].key);
            });
            for (std::uint32_t i : order) {
                w.text(m[i].key);
                encode_to(w, m[i].val);
            }
            return;
        }
    }
}

std::string encode(const value& v) {
    std::string out;
    writer w(out);
    encode_to(w, v);
    return out;
}

}  // namespace labeler::atproto::cbor
