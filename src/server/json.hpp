#pragma once
// Tiny JSON writing helpers for the server's own bodies (errors, health). Labels are rendered
// by atproto::append_json.
#include <string>
#include <string_view>

namespace labeler::server {

// Appends `s` as a JSON string literal (quotes included), escaping per RFC 8259.
void append_json_string(std::string& out, std::string_view s);
// {"error":"<error>","message":"<message>"}
std::string xrpc_error_body(std::string_view error, std::string_view message);

}  // namespace labeler::server
