#include "src/atproto/base64.hpp"

#include <fmt/format.h>

#include <array>

namespace labeler::atproto {

namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> make_table() {
    std::array<std::int8_t, 256> t{};
    for (auto& v : t) v = -1;
    for (int i = 0; i < 64; ++i) t[static_cast<std::uint8_t>(alphabet[i])] = std::int8_t(i);
    return t;
}
constexpr auto table = make_table();

}  // namespace

void base64_append(std::string& out, std::span<const std::uint8_t> data, bool pad) {
    const std::size_t start = out.size();
    out.resize(start + (data.size() + 2) / 3 * 4);
    char* o = out.data() + start;
    std::size_t i = 0;
    for (; i + 3 <= data.size(); i += 3) {
        const std::uint32_t v =
            (std::uint32_t(data[i]) << 16) | (std::uint32_t(data[i + 1]) << 8) | data[i + 2];
        *o++ = alphabet[(v >> 18) & 63];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = alphabet[(v >> 6) & 63];
        *o++ = alphabet[v & 63];
    }
    const std::size_t rest = data.size() - i;
    if (rest == 1) {
        const std::uint32_t v = std::uint32_t(data[i]) << 16;
        *o++ = alphabet[(v >> 18) & 63];
        *o++ = alphabet[(v >> 12) & 63];
        if (pad) *o++ = '=', *o++ = '=';
    } else if (rest == 2) {
        const std::uint32_t v = (std::uint32_t(data[i]) << 16) | (std::uint32_t(data[i + 1]) << 8);
        *o++ = alphabet[(v >> 18) & 63];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = alphabet[(v >> 6) & 63];
        if (pad) *o++ = '=';
    }
    out.resize(std::size_t(o - out.data()));
}

std::string base64_encode(std::span<const std::uint8_t> data, bool pad) {
    std::string out;
    base64_append(out, data, pad);
    return out;
}

result<std::vector<std::uint8_t>> base64_decode(std::string_view text) {
    // Strip padding: only a valid amount, only at the end, only if the total is a multiple of 4.
    std::size_t n = text.size();
    std::size_t pads = 0;
    while (n > 0 && text[n - 1] == '=' && pads < 2) {
        --n;
        ++pads;
    }
    if (pads > 0 && text.size() % 4 != 0) {
        return fail(
            fmt::format("base64: bad padding (length {} is not a multiple of 4)", text.size()));
    }
    std::vector<std::uint8_t> out;
    out.reserve(n / 4 * 3 + 2);
    std::uint32_t acc = 0;
    int bits = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const auto c = static_cast<std::uint8_t>(text[i]);
        const int v = table[c];
        if (v < 0) {
            if (c == '=') return fail(fmt::format("base64: unexpected '=' at offset {}", i));
            return fail(fmt::format("base64: invalid character 0x{:02x} at offset {}", c, i));
        }
        acc = (acc << 6) | std::uint32_t(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(std::uint8_t(acc >> bits));
            acc &= (1u << bits) - 1;
        }
    }
    if (n % 4 == 1) {
        return fail(fmt::format("base64: invalid length {} (a lone trailing character)", n));
    }
    if (acc != 0) return fail("base64: non-zero trailing bits in the last character");
    return out;
}

}  // namespace labeler::atproto
