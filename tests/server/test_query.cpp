#include <catch2/catch.hpp>

#include "src/atproto/label.hpp"
#include "src/server/json.hpp"
#include "src/server/query.hpp"
#include "src/server/response_cache.hpp"

using namespace labeler;
using namespace labeler::server;

TEST_CASE("parse_query_labels: valid parameters") {
    auto q = parse_query_labels("uriPatterns=did:plc:a&uriPatterns=at%3A%2F%2Fdid%3Aplc%3Ab%2F*"
                                "&sources=did:plc:src&limit=250&cursor=42&unknown=x");
    REQUIRE(q.has_value());
    REQUIRE(q->patterns.size() == 2);
    CHECK(q->patterns[0] == "did:plc:a");
    CHECK(q->patterns[1] == "at://did:plc:b/*");
    REQUIRE(q->sources.size() == 1);
    CHECK(q->sources[0] == "did:plc:src");
    CHECK(q->limit == 250);
    CHECK(q->after_seq == 42);

    auto d = parse_query_labels("uriPatterns=*");
    REQUIRE(d.has_value());
    CHECK(d->limit == 50);
    CHECK(d->after_seq == 0);
    CHECK(d->sources.empty());
    CHECK(d->patterns == std::vector<std::string>{"*"});
    CHECK(parse_query_labels("uriPatterns=*&limit=1")->limit == 1);
}

TEST_CASE("parse_query_labels: every invalid input is an error with a message") {
    for (const char* bad :
         {"", "limit=5", "uriPatterns=", "uriPatterns=a*b", "uriPatterns=**", "uriPatterns=*a",
          "uriPatterns=*&limit=0", "uriPatterns=*&limit=251", "uriPatterns=*&limit=",
          "uriPatterns=*&limit=1.5", "uriPatterns=*&limit=+5", "uriPatterns=*&limit=99999999999999999999",
          "uriPatterns=*&cursor=", "uriPatterns=*&cursor=x", "uriPatterns=*&cursor=-1",
          "uriPatterns=*&cursor=1&cursor=2", "uriPatterns=*&sources=bob",
          "uriPatterns=*&sources=did:plc:", "uriPatterns=%ZZ", "uriPatterns=a%2"}) {
        INFO(bad);
        auto q = parse_query_labels(bad);
        REQUIRE_FALSE(q.has_value());
        CHECK_FALSE(q.error().message.empty());
    }
}

TEST_CASE("render_query_labels: cursor only when more may follow, labels as lexicon JSON") {
    atproto::label l;
    l.src = "did:plc:src";
    l.uri = "did:plc:subject";
    l.val = "kichi";
    l.cts = "2026-01-01T00:00:00.000Z";
    l.sig = std::array<std::uint8_t, 64>{};
    storage::query_response r;
    r.labels.push_back({7, atproto::encode_cbor(l)});
    r.labels.push_back({8, "\xff garbage"});
    std::size_t skipped = 0;
    auto body = render_query_labels(r, &skipped);
    CHECK(skipped == 1);
    CHECK(body.rfind("{\"labels\":[{", 0) == 0);
    CHECK(body.find(atproto::to_json(l)) != std::string::npos);
    r.next_cursor = 8;
    CHECK(render_query_labels(r).rfind("{\"cursor\":\"8\",\"labels\":[", 0) == 0);
    storage::query_response empty;
    CHECK(render_query_labels(empty) == "{\"labels\":[]}");
}

TEST_CASE("xrpc error bodies are escaped JSON") {
    CHECK(xrpc_error_body("InvalidRequest", "bad \"x\"\n") ==
          "{\"error\":\"InvalidRequest\",\"message\":\"bad \\\"x\\\"\\n\"}");
    std::string s;
    append_json_string(s, std::string_view("\x01", 1));
    CHECK(s == "\"\\u0001\"");
}

namespace {

std::string signed_label_cbor(std::string uri, std::string val) {
    atproto::label l;
    l.src = "did:plc:src";
    l.uri = std::move(uri);
    l.val = std::move(val);
    l.cts = "2026-01-01T00:00:00.000Z";
    l.sig = std::array<std::uint8_t, 64>{};
    return atproto::encode_cbor(l);
}

// Drives a renderer the way label_store::query_each does: begin, have() for every result in
// order, then label() for the ones it does not have. Returns the body and the label() calls.
std::pair<std::string, std::size_t> visit(query_labels_renderer& r,
                                          const std::vector<storage::log_entry>& entries,
                                          std::optional<std::uint64_t> next = std::nullopt) {
    r.begin(next);
    std::vector<const storage::log_entry*> wanted;
    for (auto& e : entries)
        if (!r.have(e.seq)) wanted.push_back(&e);
    for (auto* e : wanted) r.label(e->seq, e->cbor);
    return {r.finish(), wanted.size()};
}

}  // namespace

TEST_CASE("query_response_cache: a body is served only at the version it was computed for") {
    query_response_cache c(4);
    CHECK_FALSE(c.get("uriPatterns=*", 7));
    c.put("uriPatterns=*", 7, "{\"labels\":[]}");
    CHECK(c.get("uriPatterns=*", 7) == std::optional<std::string>("{\"labels\":[]}"));
    CHECK_FALSE(c.get("uriPatterns=*", 8));       // a label was committed since
    CHECK_FALSE(c.get("uriPatterns=*&limit=5", 7));  // another query
    // An answer computed at an older version does not replace a newer one for the same query.
    c.put("uriPatterns=*", 9, "nine");
    c.put("uriPatterns=*", 8, "eight");
    CHECK(c.get("uriPatterns=*", 9) == std::optional<std::string>("nine"));
    CHECK_FALSE(c.get("uriPatterns=*", 8));
    // Bodies over the size bound are not kept; capacity 0 disables the cache.
    query_response_cache small(4, 10);
    small.put("q", 1, std::string(11, 'x'));
    CHECK_FALSE(small.get("q", 1));
    small.put("q", 1, std::string(10, 'x'));
    CHECK(small.get("q", 1));
    query_response_cache off(0);
    off.put("q", 1, "x");
    CHECK_FALSE(off.get("q", 1));
    CHECK(off.capacity() == 0);
    // Many queries in few slots: whatever is found is the body put for that exact query.
    for (int i = 0; i < 100; ++i) c.put("q" + std::to_string(i), 1, "body" + std::to_string(i));
    for (int i = 0; i < 100; ++i)
        if (auto b = c.get("q" + std::to_string(i), 1)) CHECK(*b == "body" + std::to_string(i));
}

TEST_CASE("label_json_cache: hits by seq, a colliding seq replaces the slot, 0 disables") {
    label_json_cache c(5);  // rounded up to 8 slots
    CHECK(c.capacity() == 8);
    std::string out = "x";
    CHECK_FALSE(c.get(3, out));
    c.put(3, "{\"a\":3}");
    CHECK(c.get(3, out));
    CHECK(out == "x{\"a\":3}");
    c.put(11, "{\"a\":11}");  // same slot as 3
    out.clear();
    CHECK_FALSE(c.get(3, out));
    CHECK(c.get(11, out));
    CHECK(out == "{\"a\":11}");
    c.put(0, "{}");  // seq 0 never exists
    CHECK_FALSE(c.get(0, out));

    label_json_cache off(0);
    CHECK(off.capacity() == 0);
    off.put(1, "{}");
    CHECK_FALSE(off.get(1, out));
}

TEST_CASE("query_labels_renderer with a cache: same body, cached labels are not read again") {
    std::vector<storage::log_entry> entries{{4, signed_label_cbor("did:plc:a", "kichi")},
                                            {9, "\xff garbage"},
                                            {12, signed_label_cbor("did:plc:b", "kyo")}};
    storage::query_response r;
    r.labels = entries;
    r.next_cursor = 12;
    std::size_t skipped = 0;
    const std::string plain = render_query_labels(r, &skipped);
    REQUIRE(skipped == 1);

    label_json_cache cache(1024);
    query_labels_renderer first(3, &cache);
    auto [body1, read1] = visit(first, entries, 12);
    CHECK(body1 == plain);
    CHECK(read1 == 3);
    CHECK(first.cache_hits() == 0);
    CHECK(first.cache_misses() == 3);
    CHECK(first.skipped() == 1);

    query_labels_renderer second(3, &cache);
    auto [body2, read2] = visit(second, entries, 12);
    CHECK(body2 == plain);
    CHECK(read2 == 1);  // only the entry that never rendered is read again
    CHECK(second.cache_hits() == 2);

    // Partly cached: a new label between cached ones keeps seq order.
    entries.insert(entries.begin() + 1, {7, signed_label_cbor("did:plc:c", "daikichi")});
    r.labels = entries;
    const std::string plain2 = render_query_labels(r);
    query_labels_renderer third(4, &cache);
    auto [body3, read3] = visit(third, entries, 12);
    CHECK(body3 == plain2);
    CHECK(read3 == 2);
    CHECK(third.cache_hits() == 2);

    // Nothing at all.
    query_labels_renderer none(0, &cache);
    CHECK(visit(none, {}).first == "{\"labels\":[]}");
}
