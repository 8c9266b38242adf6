#pragma once
// cbor::writer: streaming canonical DAG-CBOR encoder appending to a std::string.
//
// Emits shortest-form heads and definite lengths only; never floats; tag 42 only for CID
// links. The caller writes map keys in DAG-CBOR order (length first, then bytewise; see
// key_less) — nothing checks it here, but cbor::decoder rejects misordered output, so a round
// trip in a test catches mistakes. For encoding arbitrary values with automatic key sorting
// use cbor::encode(const value&) (cbor.hpp).
// Not thread-safe; cheap to construct; never allocates except by growing `out`.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace labeler::atproto::cbor {

enum major : std::uint8_t {
    major_uint = 0, major_nint = 1, major_bytes = 2, major_text = 3,
    major_array = 4, major_map = 5, major_tag = 6, major_simple = 7
};

// DAG-CBOR map key order: shorter keys first, then bytewise.
constexpr bool key_less(std::string_view a, std::string_view b) noexcept {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
}

class writer {
public:
    explicit writer(std::string& out) noexcept : out_(out) {}

    void head(major m, std::uint64_t arg);          // initial byte + shortest argument
    void uint(std::uint64_t v) { head(major_uint, v); }
    void int64(std::int64_t v) {
        if (v >= 0) head(major_uint, std::uint64_t(v));
        else head(major_nint, std::uint64_t(-(v + 1)));
    }
    void text(std::string_view s) { head(major_text, s.size()); out_.append(s); }
    void bytes(std::string_view b) { head(major_bytes, b.size()); out_.append(b); }
    void bytes(std::span<const std::uint8_t> b) {
        bytes(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
    }
    void boolean(bool v) { out_.push_back(char(v ? 0xf5 : 0xf4)); }
    void null() { out_.push_back(char(0xf6)); }
    void array(std::uint64_t n) { head(major_array, n); }
    void map(std::uint64_t n) { head(major_map, n); }
    // CID link: tag 42 + byte string of 0x00 followed by the binary CID.
    void link(std::span<const std::uint8_t> binary_cid);
    // Pre-encoded item(s), appended verbatim.
    void raw(std::string_view encoded) { out_.append(encoded); }

    std::string& out() noexcept { return out_; }

private:
    std::string& out_;
};

}  // namespace labeler::atproto::cbor
