#include <catch2/catch.hpp>

#include "src/atproto/label.hpp"
#include "src/server/json.hpp"
#include "src/server/query.hpp"

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
