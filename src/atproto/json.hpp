#pragma once
// JSON text helpers shared by everything that writes JSON by hand (labels, XRPC bodies, the
// declaration record). Stateless and thread-safe.
#include <cstddef>
#include <string>
#include <string_view>

namespace labeler::atproto {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is invalid.
std::size_t utf8_sequence(std::string_view s, std::size_t i);
// True when `s` is entirely valid UTF-8.
bool is_valid_utf8(std::string_view s);
// Appends `s` as a JSON string literal (quotes included), escaping per RFC 8259. Invalid UTF-8
// bytes become U+FFFD so the output is always valid JSON.
void append_json_string(std::string& out, std::string_view s);

}  // namespace labeler::atproto
