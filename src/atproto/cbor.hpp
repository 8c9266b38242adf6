#pragma once
// Strict DAG-CBOR (DRISL) decoding into a zero-copy value model, and canonical encoding.
//
// cbor::decoder checks everything atproto requires of DAG-CBOR and reports the first problem
// as a labeler::error whose message names the byte offset: truncated input, indefinite
// lengths, floats, simple values other than false/true/null, tags other than 42, tag 42 that is
// not a byte string 0x00 + binary CIDv1, non-shortest heads, non-text map keys, unsorted
// (length-first) or duplicate keys, invalid UTF-8, integers outside int64, exceeded limits.
//
// Lifetime (as with simdjson): a decoded cbor::value is a view. Text, bytes and links point
// into the INPUT buffer; array/map children live in the DECODER's arena. Both must outlive the
// value. decode() and decode_frame() recycle the arena, invalidating earlier values of that
// decoder; decode_prefix() appends to it (call clear() between unrelated prefixes).
// A decoder is not thread-safe; use one per thread. Allocation happens only when the arena
// grows, so a reused decoder decodes steady-state traffic without touching the heap.
//
// Values can also be built by hand (value::text(), value::map(), ...) over caller-owned
// storage, and encode() writes any value as canonical DAG-CBOR, sorting map keys.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/atproto/cbor_writer.hpp"
#include "src/atproto/cid.hpp"
#include "src/common/result.hpp"

namespace labeler::atproto::cbor {

namespace detail {
struct arena;
}

// labeler::error::code values of decode errors (for counting rejects by reason).
enum class decode_errc : int {
    truncated = 1,      // input ends inside an item
    trailing_bytes,     // decode(): bytes after the single item
    indefinite_length,  // additional info 31 / break
    reserved_info,      // additional info 28..30
    non_shortest,       // head not in shortest form
    int_range,          // integer outside int64
    float_value,        // half/single/double floats
    bad_simple,         // simple value other than false/true/null
    bad_tag,            // tag other than 42, or a malformed tag-42 link
    bad_key,            // map key not text, unsorted or duplicate
    bad_utf8,           // text is not valid UTF-8
    limit,              // depth, item count or size limit exceeded
};

struct limits {
    std::uint32_t max_depth = 32;                  // nesting of arrays/maps/tags
    std::uint32_t max_container_items = 1u << 20;  // elements of one array / entries of one map
    std::size_t max_total_bytes = 16u << 20;       // input size
};

enum class kind : std::uint8_t { null, boolean, integer, bytes, text, link, array, map };

class map_view;

// One DAG-CBOR value: 16 bytes, trivially copyable, non-owning (see lifetime above).
class value {
public:
    value() = default;  // null

    // Constructors over caller-owned storage (for encode() and tests).
    static value null() { return {}; }
    static value boolean(bool b);
    static value integer(std::int64_t i);
    static value text(std::string_view s);
    static value bytes(std::span<const std::uint8_t> b);
    static value bytes(std::string_view b);
    // A CID link; `binary_cid` has no 0x00 prefix.
    static value link(std::span<const std::uint8_t> binary_cid);
    static value array(std::span<const value> items);
    // A map over alternating key/value slots: kv[2i] is a text key, kv[2i+1] its value.
    static value map(std::span<const value> kv);

    kind type() const noexcept { return kind_; }
    bool is_null() const noexcept { return kind_ == kind::null; }
    bool is_bool() const noexcept { return kind_ == kind::boolean; }
    bool is_int() const noexcept { return kind_ == kind::integer; }
    bool is_bytes() const noexcept { return kind_ == kind::bytes; }
    bool is_text() const noexcept { return kind_ == kind::text; }
    bool is_link() const noexcept { return kind_ == kind::link; }
    bool is_array() const noexcept { return kind_ == kind::array; }
    bool is_map() const noexcept { return kind_ == kind::map; }

    // Typed access; each returns an empty/zero value when the kind differs (never UB).
    bool as_bool() const noexcept { return kind_ == kind::boolean && u_.b; }
    std::int64_t as_int() const noexcept { return kind_ == kind::integer ? u_.i : 0; }
    std::string_view as_text() const noexcept;
    std::span<const std::uint8_t> as_bytes() const noexcept;
    // Binary CID of a link (no 0x00 prefix); empty if not a link.
    std::span<const std::uint8_t> as_link() const noexcept;
    // The link as a cid (errors if not a link).
    result<cid> as_cid() const;

    // Arrays: element count; maps: entry count; text/bytes/link: byte length; else 0.
    std::size_t size() const noexcept { return size_; }
    // Array elements (empty if not an array).
    std::span<const value> items() const noexcept;
    // Map entries (empty if not a map).
    map_view entries() const noexcept;

    // Map lookup; nullptr when absent or when this is not a map.
    const value* find(std::string_view key) const noexcept;
    // Typed map lookups: nullopt-like empty results when absent or of another kind.
    bool has(std::string_view key) const noexcept { return find(key) != nullptr; }
    std::optional<std::string_view> get_text(std::string_view key) const noexcept;
    std::optional<std::int64_t> get_int(std::string_view key) const noexcept;
    std::optional<bool> get_bool(std::string_view key) const noexcept;

    // Deep structural equality (map entries compared in order).
    friend bool operator==(const value& a, const value& b) noexcept;

private:
    kind kind_ = kind::null;
    std::uint32_t size_ = 0;
    union {
        std::int64_t i;
        bool b;
        const std::uint8_t* p;  // text / bytes / link
        const value* c;         // array items / map key,value slots
    } u_{0};
};
static_assert(sizeof(value) == 16);

// Entries of a map in wire (canonical) order; iterate `for (auto [k, v] : m.entries())`.
class map_view {
public:
    struct entry {
        std::string_view key;
        const value& val;
    };
    class iterator {
    public:
        explicit iterator(const value* p) : p_(p) {}
        entry operator*() const { return {p_[0].as_text(), p_[1]}; }
        iterator& operator++() {
            p_ += 2;
            return *this;
        }
        bool operator==(const iterator& o) const { return p_ == o.p_; }
        bool operator!=(const iterator& o) const { return p_ != o.p_; }

    private:
        const value* p_;
    };
    map_view(const value* kv, std::size_t n) : kv_(kv), n_(n) {}
    iterator begin() const { return iterator(kv_); }
    iterator end() const { return iterator(kv_ + 2 * n_); }
    std::size_t size() const { return n_; }
    bool empty() const { return n_ == 0; }
    entry operator[](std::size_t i) const { return {kv_[2 * i].as_text(), kv_[2 * i + 1]}; }

private:
    const value* kv_;
    std::size_t n_;
};

// An item decoded from the front of a buffer, and how many bytes it took.
struct prefix_item {
    value item;
    std::size_t consumed = 0;
};

// An event-stream frame: two items back to back (header, then body).
struct frame {
    value header;
    value body;
};

// Strict DAG-CBOR decoder with a reusable arena (see the file comment for lifetimes).
class decoder {
public:
    explicit decoder(limits lim = {});
    ~decoder();
    decoder(const decoder&) = delete;
    decoder& operator=(const decoder&) = delete;
    decoder(decoder&&) noexcept;
    decoder& operator=(decoder&&) noexcept;

    // Decodes exactly one item spanning all of `in`. Recycles the arena first.
    result<value> decode(std::span<const std::uint8_t> in);
    result<value> decode(std::string_view in) {
        return decode({reinterpret_cast<const std::uint8_t*>(in.data()), in.size()});
    }
    // Decodes the item at the front of `in`; trailing bytes are left. Does NOT recycle the
    // arena (values from earlier decode_prefix calls stay valid).
    result<prefix_item> decode_prefix(std::span<const std::uint8_t> in);
    // Decodes header + body filling all of `in`. Recycles the arena first. Error offsets are
    // relative to the start of the frame.
    result<frame> decode_frame(std::span<const std::uint8_t> in);
    result<frame> decode_frame(std::string_view in) {
        return decode_frame({reinterpret_cast<const std::uint8_t*>(in.data()), in.size()});
    }

    // Invalidates every value from this decoder; keeps the arena's memory for reuse.
    void clear() noexcept;
    // Frees the arena's memory (e.g. after an unusually large document).
    void release() noexcept;
    const limits& get_limits() const noexcept { return limits_; }

private:
    result<prefix_item> decode_at(std::span<const std::uint8_t> in, std::size_t base);
    limits limits_;
    std::unique_ptr<detail::arena> arena_;
};

// Canonical DAG-CBOR of `v`: shortest heads, map keys sorted length-first. Maps with duplicate
// keys are written as given (and would be rejected by decode); callers must not build them.
std::string encode(const value& v);
void encode_to(writer& w, const value& v);

// True iff `s` is valid UTF-8 (no overlongs, surrogates, or code points above U+10FFFF).
bool valid_utf8(std::string_view s) noexcept;

}  // namespace labeler::atproto::cbor
