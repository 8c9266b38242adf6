#include "src/server/json.hpp"

namespace labeler::server {

std::string xrpc_error_body(std::string_view error, std::string_view message) {
    std::string out = "{\"error\":";
    append_json_string(out, error);
    out += ",\"message\":";
    append_json_string(out, message);
    out += "}";
    return out;
}

}  // namespace labeler::server
