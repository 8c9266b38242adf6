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
#include "src/server/json_cache.hpp"
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
// no label is copied out of RocksDB first. With a cache, labels found there are not read from
// the store at all (have()), and the ones rendered here are added to it.
class query_labels_renderer : public storage::query_visitor {
public:
    explicit query_labels_renderer(std::size_t expected_labels = 50,
                                   label_json_cache* cache = nullptr);
    void begin(std::optional<std::uint64_t> next_cursor) override;
    bool have(std::uint64_t seq) override;
    void label(std::uint64_t seq, std::string_view cbor) override;
    // The finished body; skipped() tells how many entries failed to decode.
    std::string finish();
    std::size_t skipped() const { return skipped_; }
    std::size_t cache_hits() const { return hits_; }
    std::size_t cache_misses() const { return misses_; }

private:
    void render(std::string& out, std::string_view cbor);

    std::string out_;
    label_json_cache* cache_;
    // With a cache: every result's JSON in seq order (empty until label() renders it).
    std::vector<std::pair<std::uint64_t, std::string>> parts_;
    std::size_t next_part_ = 0;
    std::size_t skipped_ = 0, hits_ = 0, misses_ = 0;
    bool first_ = true;
};

}  // namespace labeler::server
