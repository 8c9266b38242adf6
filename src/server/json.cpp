#include "src/server/json.hpp"

namespace labeler::server {

void append_json_string(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out.push_back('"');
    for (char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    out += "\\u00";
                    out.push_back(hex[(c >> 4) & 0xf]);
                    out.push_back(hex[c & 0xf]);
                } else {
                    out.push_back(c);
                }
        }
    }
    out.push_back('"');
}

std::string xrpc_error_body(std::string_view error, std::string_view message) {
    std::string out = "{\"error\":";
    append_json_string(out, error);
    out += ",\"message\":";
    append_json_string(out, message);
    out += "}";
    return out;
}

}  // namespace labeler::server
