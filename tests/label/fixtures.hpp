#pragma once
// Helpers shared by the label tests: fixture paths, line lists, hex.
#include <catch2/catch.hpp>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "src/common/result.hpp"

// Shows a labeler::result in assertion messages ("ok" or the error message); without this,
// Catch would pick boost's operator<<, which needs a streamable T.
namespace Catch {
template <class T>
struct StringMaker<labeler::result<T>> {
    static std::string convert(const labeler::result<T>& r) {
        return r.has_value() ? std::string("ok") : "error: " + r.error().message;
    }
};
}  // namespace Catch

namespace labeler::test {

inline std::string data_path(const std::string& rel) {
    return std::string(LABELER_SOURCE_DIR) + "/tests/label/data/" + rel;
}

inline std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open fixture " + path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Non-empty, non-comment lines of an interop syntax fixture; spaces are kept (they matter).
inline std::vector<std::string> fixture_lines(const std::string& rel) {
    std::vector<std::string> out;
    std::istringstream in(read_text(data_path(rel)));
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        out.push_back(line);
    }
    if (out.empty()) throw std::runtime_error("empty fixture " + rel);
    return out;
}

inline std::vector<std::uint8_t> from_hex(const std::string& hex) {
    std::vector<std::uint8_t> out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out.push_back(std::uint8_t(std::stoi(hex.substr(i, 2), nullptr, 16)));
    return out;
}

inline std::string to_hex(const std::string& bytes) {
    static constexpr char d[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out.push_back(d[c >> 4]);
        out.push_back(d[c & 15]);
    }
    return out;
}

template <class Bytes>
inline std::string to_hex_bytes(const Bytes& b) {
    return to_hex(std::string(b.begin(), b.end()));
}

}  // namespace labeler::test
