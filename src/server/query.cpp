#include "src/server/query.hpp"

#include <boost/url/params_view.hpp>
#include <boost/url/parse_query.hpp>

#include <charconv>

#include "src/atproto/label.hpp"
#include "src/atproto/syntax.hpp"

namespace labeler::server {

namespace {

result<std::uint64_t> parse_decimal(std::string_view name, std::string_view v) {
    std::uint64_t out = 0;
    if (v.empty() || v.size() > 19)
        return fail("Error: Invalid " + std::string(name) + ": expected a decimal integer");
    for (char c : v)
        if (c < '0' || c > '9')
            return fail("Error: Invalid " + std::string(name) + ": expected a decimal integer");
    std::from_chars(v.data(), v.data() + v.size(), out);
    return out;
}

}  // namespace

result<storage::query_request> parse_query_labels(std::string_view query) {
    if (!boost::urls::parse_query(query)) return fail("Error: malformed query string");
    boost::urls::params_view params(query);  // valid: cannot throw
    storage::query_request q;
    bool have_limit = false, have_cursor = false;
    for (auto p : params) {  // decoded key/value
        std::string_view key = p.key;
        if (key == "uriPatterns") {
            const std::string& v = p.value;
            if (v.empty()) return fail("Error: uriPatterns must not contain an empty pattern");
            auto star = v.find('*');
            if (star != std::string::npos && star != v.size() - 1)
                return fail("Error: invalid pattern '" + v +
                            "': '*' is only allowed as the last character");
            q.patterns.push_back(v);
        } else if (key == "sources") {
            if (!atproto::is_valid_did(p.value))
                return fail("Error: sources must be DIDs, got '" + p.value + "'");
            q.sources.push_back(p.value);
        } else if (key == "limit") {
            if (have_limit) return fail("Error: limit given more than once");
            have_limit = true;
            auto n = parse_decimal("limit", p.value);
            if (!n) return n.error();
            if (*n < 1 || *n > 250)
                return fail("Error: limit must be between 1 and 250, got " + p.value);
            q.limit = std::size_t(*n);
        } else if (key == "cursor") {
            if (have_cursor) return fail("Error: cursor given more than once");
            have_cursor = true;
            auto n = parse_decimal("cursor", p.value);
            if (!n) return n.error();
            q.after_seq = *n;
        }
    }
    if (q.patterns.empty()) return fail("Error: Params must have the property \"uriPatterns\"");
    return q;
}

std::string render_query_labels(const storage::query_response& r, std::size_t* skipped) {
    std::string out;
    out.reserve(64 + r.labels.size() * 260);
    out += "{";
    if (r.next_cursor) {
        out += "\"cursor\":\"";
        out += std::to_string(*r.next_cursor);
        out += "\",";
    }
    out += "\"labels\":[";
    bool first = true;
    for (auto& e : r.labels) {
        auto l = atproto::decode_cbor(e.cbor);
        if (!l) {
            if (skipped) ++*skipped;
            continue;
        }
        if (!first) out += ',';
        first = false;
        atproto::append_json(out, *l);
    }
    out += "]}";
    return out;
}

}  // namespace labeler::server
