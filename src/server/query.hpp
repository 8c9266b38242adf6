#pragma once
// com.atproto.label.queryLabels: parameter parsing and response rendering (protocol §4).
// Pure functions, thread-safe; parsing runs on the network thread, rendering on the pool.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/common/result.hpp"
#include "storage/label_store.hpp"

namespace labeler::server {

// Splits a raw query string (after '?') into percent-decoded (key, value) pairs, in order.
// Fails on a malformed escape. '+' is kept as is (atproto URIs and DIDs never contain spaces).
result<std::vector<std::pair<std::string, std::string>>> parse_query_string(std::string_view query);

// Parses the raw query string (after '?', percent-encoded): repeated `uriPatterns` (required;
// exact, or a prefix ending in '*'; '*' elsewhere is an error), repeated `sources` (DIDs),
// `limit` 1..250 (default 50), `cursor` (decimal seq). Unknown parameters are ignored.
// The error message is meant for the client (XRPC InvalidRequest).
result<storage::query_request> parse_query_labels(std::string_view query);

// {"cursor"?:"N","labels":[...]} — labels decoded from their stored CBOR and rendered as
// com.atproto.label.defs#label JSON. Entries that fail to decode are skipped and counted in
// *skipped (never expected: the store only holds labels we signed).
std::string render_query_labels(const storage::query_response& r, std::size_t* skipped = nullptr);

// The same body, written while the store visits the results (label_store::query_each), so
// no label is copied out of RocksDB first.
class query_labels_renderer : public storage::query_visitor {
public:
    explicit query_labels_renderer(std::size_t expected_labels = 50);
    void begin(std::optional<std::uint64_t> next_cursor) override;
    void label(std::uint64_t seq, std::string_view cbor) override;
    // The finished body; skipped() tells how many entries failed to decode.
    std::string finish();
    std::size_t skipped() const { return skipped_; }

private:
    std::string out_;
    std::size_t skipped_ = 0;
    bool first_ = true;
};

}  // namespace labeler::server
