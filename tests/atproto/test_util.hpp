#pragma once
// Helpers shared by the codec tests: hex, file reading, and printing labeler::error in Catch.
#include <catch2/catch.hpp>
#include <cstdint>
#include <fstream>
#include <ostream>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "src/common/result.hpp"

namespace labeler {
// Lets Catch print a result<T> holding an error (found by ADL).
inline std::ostream& operator<<(std::ostream& os, const error& e) {
    return os << e.message;
}
}  // namespace labeler

// Catch prints result<T> as "ok" or "error: <message>" (T need not be printable).
namespace Catch {
template <class T>
struct StringMaker<boost::system::result<T, labeler::error>> {
    static std::string convert(const boost::system::result<T, labeler::error>& r) {
        return r ? std::string("ok") : "error: " + r.error().message;
    }
};
}  // namespace Catch

namespace labeler::test {

inline std::string hex(std::span<const std::uint8_t> b) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (auto c : b) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 15]);
    }
    return out;
}
inline std::string hex(std::string_view s) {
    return hex({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
}

inline std::vector<std::uint8_t> unhex(std::string_view h) {
    std::vector<std::uint8_t> out;
    auto nib = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
    std::size_t i = 0;
    while (i + 1 < h.size()) {
        if (h[i] == ' ' || h[i] == '\n') {
            ++i;
            continue;
        }
        out.push_back(std::uint8_t(nib(h[i]) << 4 | nib(h[i + 1])));
        i += 2;
    }
    return out;
}

inline std::span<const std::uint8_t> as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Whole file as bytes; empty string if it cannot be read (tests REQUIRE non-empty).
inline std::string slurp(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

}  // namespace labeler::test
