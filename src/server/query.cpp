#include "src/server/query.hpp"

#include <charconv>
#include <optional>

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

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Percent-decodes; nullopt on a malformed escape.
std::optional<std::string> pct_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out.push_back(s[i]);
            continue;
        }
        if (i + 2 >= s.size()) return std::nullopt;
        int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(char(hi * 16 + lo));
        i += 2;
    }
    return out;
}

}  // namespace

result<std::vector<std::pair<std::string, std::string>>> parse_query_string(std::string_view query) {
    std::vector<std::pair<std::string, std::string>> out;
    while (!query.empty()) {
        auto amp = query.find('&');
        std::string_view part = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (part.empty()) continue;
        auto eq = part.find('=');
        auto key = pct_decode(part.substr(0, eq));
        auto value = pct_decode(eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1));
        if (!key || !value) return fail("Error: malformed percent-escape in query string");
        out.emplace_back(std::move(*key), std::move(*value));
    }
    return out;
}

result<storage::query_request> parse_query_labels(std::string_view query) {
    auto params = parse_query_string(query);
    if (!params) return params.error();
    storage::query_request q;
    bool have_limit = false, have_cursor = false;
    for (auto& [key, value] : *params) {
        if (key == "uriPatterns") {
            const std::string& v = value;
            if (v.empty()) return fail("Error: uriPatterns must not contain an empty pattern");
            auto star = v.find('*');
            if (star != std::string::npos && star != v.size() - 1)
                return fail("Error: invalid pattern '" + v +
                            "': '*' is only allowed as the last character");
            q.patterns.push_back(v);
        } else if (key == "sources") {
            if (!atproto::is_valid_did(value))
                return fail("Error: sources must be DIDs, got '" + value + "'");
            q.sources.push_back(value);
        } else if (key == "limit") {
            if (have_limit) return fail("Error: limit given more than once");
            have_limit = true;
            auto n = parse_decimal("limit", value);
            if (!n) return n.error();
            if (*n < 1 || *n > 250)
                return fail("Error: limit must be between 1 and 250, got " + value);
            q.limit = std::size_t(*n);
        } else if (key == "cursor") {
            if (have_cursor) return fail("Error: cursor given more than once");
            have_cursor = true;
            auto n = parse_decimal("cursor", value);
            if (!n) return n.error();
            q.after_seq = *n;
        }
    }
    if (q.patterns.empty()) return fail("Error: Params must have the property \"uriPatterns\"");
    return q;
}

query_labels_renderer::query_labels_renderer(std::size_t expected_labels,
                                             label_json_cache* cache)
    : cache_(cache && cache->capacity() ? cache : nullptr) {
    out_.reserve(64 + expected_labels * 260);
    if (cache_) parts_.reserve(expected_labels);
}

void query_labels_renderer::begin(std::optional<std::uint64_t> next_cursor) {
    out_ += "{";
    if (next_cursor) {
        out_ += "\"cursor\":\"";
        out_ += std::to_string(*next_cursor);
        out_ += "\",";
    }
    out_ += "\"labels\":[";
}

bool query_labels_renderer::have(std::uint64_t seq) {
    if (!cache_) return false;
    auto& part = parts_.emplace_back(seq, std::string());
    if (cache_->get(seq, part.second)) {
        ++hits_;
        return true;
    }
    ++misses_;
    return false;
}

void query_labels_renderer::render(std::string& out, std::string_view cbor) {
    auto l = atproto::decode_cbor_view(
        {reinterpret_cast<const std::uint8_t*>(cbor.data()), cbor.size()});
    if (!l) {
        ++skipped_;
        return;
    }
    atproto::append_json(out, *l);
}

void query_labels_renderer::label(std::uint64_t seq, std::string_view cbor) {
    if (!cache_) {
        const std::size_t mark = out_.size();
        if (!first_) out_ += ',';
        const std::size_t before = skipped_;
        render(out_, cbor);
        if (skipped_ != before) out_.resize(mark);  // nothing rendered: no comma either
        else first_ = false;
        return;
    }
    // The parts are in seq order and label() comes in seq order: find this one's slot.
    while (next_part_ < parts_.size() && parts_[next_part_].first != seq) ++next_part_;
    if (next_part_ == parts_.size()) return;  // not announced through have(): not expected
    auto& json = parts_[next_part_++].second;
    render(json, cbor);
    if (!json.empty()) cache_->put(seq, json);
}

std::string query_labels_renderer::finish() {
    for (auto& [seq, json] : parts_) {
        if (json.empty()) continue;
        if (!first_) out_ += ',';
        first_ = false;
        out_ += json;
    }
    out_ += "]}";
    return std::move(out_);
}

std::string render_query_labels(const storage::query_response& r, std::size_t* skipped) {
    query_labels_renderer w(r.labels.size());
    w.begin(r.next_cursor);
    for (auto& e : r.labels) w.label(e.seq, e.cbor);
    if (skipped) *skipped += w.skipped();
    return w.finish();
}

}  // namespace labeler::server
