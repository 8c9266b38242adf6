#include "src/atproto/base58.hpp"

#include <fmt/format.h>

#include <array>

namespace labeler::atproto {

namespace {

constexpr char alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

constexpr std::array<std::int8_t, 256> make_table() {
    std::array<std::int8_t, 256> t{};
    for (auto& v : t) v = -1;
    for (int i = 0; i < 58; ++i) t[static_cast<std::uint8_t>(alphabet[i])] = std::int8_t(i);
    return t;
}
constexpr auto table = make_table();

}  // namespace

std::string base58btc_encode(std::span<const std::uint8_t> data) {
    std::size_t zeros = 0;
    while (zeros < data.size() && data[zeros] == 0) ++zeros;
    // log(256)/log(58) ~= 1.3657; digits are stored little-endian in base 58.
    std::vector<std::uint8_t> digits;
    digits.reserve((data.size() - zeros) * 138 / 100 + 1);
    for (std::size_t i = zeros; i < data.size(); ++i) {
        std::uint32_t carry = data[i];
        for (auto& d : digits) {
            carry += std::uint32_t(d) << 8;
            d = std::uint8_t(carry % 58);
            carry /= 58;
        }
        while (carry > 0) {
            digits.push_back(std::uint8_t(carry % 58));
            carry /= 58;
        }
    }
    std::string out(zeros, '1');
    out.reserve(zeros + digits.size());
    for (auto it = digits.rbegin(); it != digits.rend(); ++it) out.push_back(alphabet[*it]);
    return out;
}

result<std::vector<std::uint8_t>> base58btc_decode(std::string_view text) {
    if (text.size() > max_base58_input) {
        return fail(fmt::format("base58: input of {} characters exceeds the limit of {}",
                                text.size(), max_base58_input));
    }
    std::size_t ones = 0;
    while (ones < text.size() && text[ones] == '1') ++ones;
    std::vector<std::uint8_t> bytes;  // little-endian base 256
    bytes.reserve(text.size() * 733 / 1000 + 1);
    for (std::size_t i = ones; i < text.size(); ++i) {
        const auto c = static_cast<std::uint8_t>(text[i]);
        const int v = table[c];
        if (v < 0) {
            if (c == '0' || c == 'O' || c == 'I' || c == 'l') {
                return fail(fmt::format(
                    "base58: character '{}' at offset {} is not in the base58btc alphabet "
                    "(0, O, I and l are excluded)",
                    char(c), i));
            }
            if (c >= 0x21 && c < 0x7f) {
                return fail(fmt::format(
                    "base58: character '{}' at offset {} is not in the base58btc alphabet", char(c),
                    i));
            }
            return fail(fmt::format(
                "base58: byte 0x{:02x} at offset {} is not in the base58btc alphabet", c, i));
        }
        std::uint32_t carry = std::uint32_t(v);
        for (auto& b : bytes) {
            carry += std::uint32_t(b) * 58;
            b = std::uint8_t(carry & 0xff);
            carry >>= 8;
        }
        while (carry > 0) {
            bytes.push_back(std::uint8_t(carry & 0xff));
            carry >>= 8;
        }
    }
    std::vector<std::uint8_t> out(ones, 0);
    out.insert(out.end(), bytes.rbegin(), bytes.rend());
    return out;
}

}  // namespace labeler::atproto
