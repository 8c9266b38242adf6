#pragma once
// Tiny JSON writing helpers for the server's own bodies (errors, health). Labels are rendered
// by atproto::append_json.
#include <string>
#include <string_view>

#include "src/atproto/json.hpp"

namespace labeler::server {

using atproto::append_json_string;
// {"error":"<error>","message":"<message>"}
std::string xrpc_error_body(std::string_view error, std::string_view message);

}  // namespace labeler::server
