#include "src/atproto/base32.hpp"

#include <fmt/format.h>

#include <array>

namespace labeler::atproto {

namespace {

constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

constexpr std::array<std::int8_t, 256> make_table() {
    std::array<std::int8_t, 256> t{};
    for (auto& v : t) v = -1;
    for (int i = 0; i < 32; ++i) t[static_cast<std::uint8_t>(alphabet[i])] = std::int8_t(i);
    return t;
}
constexpr auto table = make_table();

}  // namespace

void base32_append(std::string& out, std::span<const std::uint8_t> data) {
    out.reserve(out.size() + (data.size() * 8 + 4) / 5);
    std::uint32_t acc = 0;
    int bits = 0;
    for (const std::uint8_t b : data) {
        acc = (acc << 8) | b;
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out.push_back(alphabet[(acc >> bits) & 31]);
        }
        acc &= (1u << bits) - 1;
    }
    if (bits > 0) out.push_back(alphabet[(acc << (5 - bits)) & 31]);
}

std::string base32_encode(std::span<const std::uint8_t> data) {
    std::string out;
    base32_append(out, data);
    return out;
}

result<std::vector<std::uint8_t>> base32_decode(std::string_view text) {
    const std::size_t rem = text.size() % 8;
    if (rem == 1 || rem == 3 || rem == 6) {
        return fail(fmt::format("base32: invalid length {} (a trailing group of {} characters)",
                                text.size(), rem));
    }
    std::vector<std::uint8_t> out;
    out.reserve(text.size() * 5 / 8);
    std::uint32_t acc = 0;
    int bits = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<std::uint8_t>(text[i]);
        const int v = table[c];
        if (v < 0) {
            if (c >= 'A' && c <= 'Z') {
                return fail(fmt::format(
                    "base32: uppercase '{}' at offset {} (only lowercase base32 is accepted)",
                    char(c), i));
            }
            if (c >= 0x21 && c < 0x7f) {
                return fail(fmt::format("base32: invalid character '{}' at offset {}", char(c), i));
            }
            return fail(fmt::format("base32: invalid byte 0x{:02x} at offset {}", c, i));
        }
        acc = (acc << 5) | std::uint32_t(v);
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(std::uint8_t(acc >> bits));
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) return fail("base32: non-zero trailing bits in the last character");
    return out;
}

}  // namespace labeler::atproto
