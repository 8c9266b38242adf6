// Jetstream decoding: shapes from protocol.md §7 (v1 models.go, v2's extra `cursor`).
#include <catch2/catch.hpp>

#include <fstream>

#include "pipeline/decode.hpp"
#include "pipeline/filter.hpp"

using namespace labeler::pipeline;
using labeler::storage::account_status;

namespace {

const char* follow_create =
    R"({"did":"did:plc:followerxxxxxxxxxxxxxxxx","time_us":1725911162329308,"kind":"commit",)"
    R"("commit":{"rev":"3l3qo2vutsw2b","operation":"create","collection":"app.bsky.graph.follow",)"
    R"("rkey":"3l3qo2vuowo2b","record":{"$type":"app.bsky.graph.follow",)"
    R"("createdAt":"2024-09-09T19:46:02.102Z","subject":"did:plc:labelerxxxxxxxxxxxxxxxxx"},)"
    R"("cid":"bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi"}})";

const char* follow_delete =
    R"({"did":"did:plc:rfov6bpyztcnedeyyzgfq42k","time_us":1725516666833633,"kind":"commit",)"
    R"("commit":{"rev":"3l3f6nzl3cv2s","operation":"delete","collection":"app.bsky.graph.follow",)"
    R"("rkey":"3l3dn7tku762u"}})";

int code_of(const labeler::result<decoded>& r) { return r ? 0 : r.error().code; }

}  // namespace

TEST_CASE("jetstream: a follow create becomes follow_create with its subject") {
    jetstream_decoder dec;
    std::vector<event> out;
    auto r = dec(follow_create, out);
    REQUIRE(r.has_value());
    CHECK(r->kind == message_kind::follow);
    CHECK(r->has_cursor);
    CHECK(r->cursor == 1725911162329308u);
    CHECK(r->time_us == 1725911162329308);
    REQUIRE(out.size() == 1);
    CHECK(out[0].kind == event_kind::follow_create);
    CHECK(out[0].did == "did:plc:followerxxxxxxxxxxxxxxxx");
    CHECK(out[0].rkey == "3l3qo2vuowo2b");
    CHECK(out[0].subject == "did:plc:labelerxxxxxxxxxxxxxxxxx");
}

TEST_CASE("jetstream: a follow delete carries no subject") {
    jetstream_decoder dec;
    std::vector<event> out;
    auto r = dec(follow_delete, out);
    REQUIRE(r.has_value());
    REQUIRE(out.size() == 1);
    CHECK(out[0].kind == event_kind::follow_delete);
    CHECK(out[0].did == "did:plc:rfov6bpyztcnedeyyzgfq42k");
    CHECK(out[0].rkey == "3l3dn7tku762u");
    CHECK(out[0].subject.empty());
}

TEST_CASE("jetstream: account events map the status; transient ones are flagged") {
    jetstream_decoder dec;
    std::vector<event> out;
    auto r = dec(R"({"did":"did:plc:aaa","time_us":5,"kind":"account","account":)"
                 R"({"active":false,"did":"did:plc:aaa","seq":1,"time":"2024-09-09T19:46:02.102Z",)"
                 R"("status":"takendown"}})",
                 out);
    REQUIRE(r.has_value());
    CHECK(r->kind == message_kind::account);
    REQUIRE(out.size() == 1);
    CHECK(out[0].kind == event_kind::account_change);
    CHECK(out[0].did == "did:plc:aaa");
    CHECK_FALSE(out[0].active);
    CHECK(out[0].status == account_status::takendown);
    CHECK_FALSE(out[0].transient);

    out.clear();
    REQUIRE(dec(R"({"did":"did:plc:aaa","time_us":6,"kind":"account","account":{"active":true,)"
                R"("did":"did:plc:aaa","seq":2,"time":"2024-09-09T19:46:02.102Z"}})",
                out).has_value());
    REQUIRE(out.size() == 1);
    CHECK(out[0].active);
    CHECK(out[0].status == account_status::active);

    out.clear();
    REQUIRE(dec(R"({"did":"did:plc:aaa","time_us":7,"kind":"account","account":{"active":false,)"
                R"("status":"desynchronized","did":"did:plc:aaa","seq":3,"time":"x"}})",
                out).has_value());
    REQUIRE(out.size() == 1);
    CHECK(out[0].transient);
    CHECK_FALSE(event_filter("did:plc:labeler")(out[0]));
}

TEST_CASE("jetstream: identity events and unknown kinds yield no events") {
    jetstream_decoder dec;
    std::vector<event> out;
    auto r = dec(R"({"did":"did:plc:aaa","time_us":9,"kind":"identity","identity":)"
                 R"({"did":"did:plc:aaa","handle":"a.test","seq":1,"time":"2024-09-09T19:46:02Z"}})",
                 out);
    REQUIRE(r.has_value());
    CHECK(r->kind == message_kind::identity);
    CHECK(r->cursor == 9u);
    CHECK(out.empty());
    auto u = dec(R"({"did":"did:plc:aaa","time_us":10,"kind":"future-thing","x":{"y":[1,2]}})", out);
    REQUIRE(u.has_value());
    CHECK(u->kind == message_kind::unknown);
    CHECK(out.empty());
}

TEST_CASE("jetstream: unknown fields, any field order and v2's cursor are accepted") {
    jetstream_decoder dec;
    std::vector<event> out;
    auto r = dec(R"({"cursor":123456,"kind":"commit","extra":{"deep":[{"a":1}]},"commit":{"rkey":"3kabc",)"
                 R"("record":{"subject":"did:plc:lab","createdAt":"2024-09-09T19:46:02.102Z","via":)"
                 R"({"uri":"at://x","cid":"y"}},"collection":"app.bsky.graph.follow",)"
                 R"("operation":"create","new":true},"did":"did:plc:bbb","time_us":77})",
                 out);
    REQUIRE(r.has_value());
    CHECK(r->cursor == 77u);  // time_us, not v2's seq
    REQUIRE(out.size() == 1);
    CHECK(out[0].subject == "did:plc:lab");
    CHECK(out[0].did == "did:plc:bbb");
    CHECK(out[0].rkey == "3kabc");
}

TEST_CASE("jetstream: other collections are recognised and ignored") {
    jetstream_decoder dec;
    std::vector<event> out;
    auto r = dec(R"({"did":"did:plc:aaa","time_us":11,"kind":"commit","commit":{"rev":"x",)"
                 R"("operation":"create","collection":"app.bsky.feed.like","rkey":"3k",)"
                 R"("record":{"subject":{"uri":"at://did:plc:x/app.bsky.feed.post/1","cid":"b"}}}})",
                 out);
    REQUIRE(r.has_value());
    CHECK(r->kind == message_kind::commit_other);
    CHECK(r->cursor == 11u);
    CHECK(out.empty());
}

TEST_CASE("jetstream: malformed JSON, wrong types and missing fields are errors, not throws") {
    jetstream_decoder dec(1024);
    std::vector<event> out;
    CHECK(code_of(dec(R"({"did":"did:plc:aaa","time_us":1,"kind":"commit","commit":{)", out)) ==
          int(decode_errc::malformed));
    CHECK(code_of(dec("", out)) != 0);
    CHECK(code_of(dec("[1,2,3]", out)) != 0);
    CHECK(code_of(dec("not json at all", out)) != 0);
    CHECK(code_of(dec(R"({"did":"did:plc:aaa","time_us":"12","kind":"identity"})", out)) ==
          int(decode_errc::schema));
    CHECK(code_of(dec(R"({"did":"did:plc:aaa","kind":"identity"})", out)) ==
          int(decode_errc::schema));
    CHECK(code_of(dec(R"({"did":"did:plc:aaa","time_us":-5,"kind":"identity"})", out)) ==
          int(decode_errc::schema));
    // A follow whose subject is not a string, or that lacks its record or rkey.
    CHECK(code_of(dec(R"({"did":"did:plc:aaa","time_us":1,"kind":"commit","commit":{"operation":)"
                      R"("create","collection":"app.bsky.graph.follow","rkey":"3k","record":)"
                      R"({"subject":42}}})",
                      out)) == int(decode_errc::schema));
    CHECK(code_of(dec(R"({"did":"did:plc:aaa","time_us":1,"kind":"commit","commit":{"operation":)"
                      R"("create","collection":"app.bsky.graph.follow","rkey":"3k"}})",
                      out)) == int(decode_errc::schema));
    CHECK(code_of(dec(R"({"did":"did:plc:aaa","time_us":1,"kind":"commit","commit":{"operation":)"
                      R"("delete","collection":"app.bsky.graph.follow"}})",
                      out)) == int(decode_errc::schema));
    CHECK(code_of(dec(R"({"did":"not-a-did","time_us":1,"kind":"commit","commit":{"operation":)"
                      R"("delete","collection":"app.bsky.graph.follow","rkey":"3k"}})",
                      out)) == int(decode_errc::schema));
    CHECK(code_of(dec(R"({"did":"did:plc:aaa","time_us":1,"kind":"account","account":{}})", out)) ==
          int(decode_errc::schema));
    CHECK(out.empty());
    // The decoder is still usable afterwards.
    REQUIRE(dec(follow_delete, out).has_value());
    CHECK(out.size() == 1);
}

TEST_CASE("jetstream: events above max_event_bytes are dropped as oversize") {
    jetstream_decoder dec(100);
    std::vector<event> out;
    CHECK(code_of(dec(follow_create, out)) == int(decode_errc::oversize));
    CHECK(out.empty());
    CHECK(reason_name(int(decode_errc::oversize)) == "oversize");
}

TEST_CASE("jetstream: peek_time_us reads the top-level time_us without parsing") {
    CHECK(peek_time_us(follow_create) == std::optional<std::uint64_t>(1725911162329308u));
    CHECK(peek_time_us(R"({"did":"x","time_us" : 42,"kind":"identity"})") ==
          std::optional<std::uint64_t>(42u));
    CHECK_FALSE(peek_time_us(R"({"did":"x"})").has_value());
    CHECK_FALSE(peek_time_us(R"({"time_us":"12"})").has_value());
}

TEST_CASE("filter: keeps follows of the labeler, every delete and user account changes") {
    event_filter keep("did:plc:lab");
    event e;
    e.kind = event_kind::follow_create;
    e.subject = "did:plc:lab";
    CHECK(keep(e));
    e.subject = "did:plc:someoneelse";
    CHECK_FALSE(keep(e));
    e.kind = event_kind::follow_delete;
    CHECK(keep(e));
    e.kind = event_kind::account_change;
    set_account_status(e, false, "deactivated");
    CHECK(keep(e));
    set_account_status(e, false, "throttled");
    CHECK_FALSE(keep(e));
    set_account_status(e, false, "");
    CHECK(e.status == account_status::other_inactive);
    CHECK(keep(e));
}

TEST_CASE("jetstream: the pre-filter agrees with the full parse on every sample line") {
    std::ifstream in(std::string(LABELER_SOURCE_DIR) + "/config/samples/development.jsonl");
    REQUIRE(in.good());
    jetstream_decoder fast, full(2u << 20, false);
    std::string line;
    int lines = 0, ok = 0;
    while (std::getline(in, line)) {
        ++lines;
        std::vector<event> a, b;
        auto ra = fast(line, a);
        auto rb = full(line, b);
        REQUIRE(ra.has_value() == rb.has_value());
        if (!ra) continue;
        ++ok;
        CHECK(ra->kind == rb->kind);
        CHECK(ra->cursor == rb->cursor);
        CHECK(ra->time_us == rb->time_us);
        REQUIRE(a.size() == b.size());
        for (std::size_t i = 0; i < a.size(); ++i) {
            CHECK(a[i].did == b[i].did);
            CHECK(a[i].rkey == b[i].rkey);
            CHECK(a[i].subject == b[i].subject);
        }
    }
    CHECK(lines == 200);
    CHECK(ok == 199);  // one malformed line
}

TEST_CASE("jetstream: duplicate keys take the first value; time_us beyond int64 has no time") {
    jetstream_decoder fast, full(2u << 20, false);
    std::vector<event> a, b;
    std::string dup =
        R"({"did":"did:plc:aaa","time_us":1760,"kind":"commit","commit":{"rev":"3m",)"
        R"("operation":"create","collection":"app.bsky.feed.like","rkey":"3k"},)"
        R"("time_us":99,"kind":"commit","commit":{"rev":"3m","operation":"create",)"
        R"("collection":"app.bsky.graph.follow","rkey":"3k","record":{"subject":"did:plc:x"}}})";
    auto ra = fast(dup, a);
    auto rb = full(dup, b);
    REQUIRE(ra.has_value());
    REQUIRE(rb.has_value());
    CHECK(ra->cursor == 1760u);
    CHECK(rb->cursor == 1760u);
    CHECK(rb->kind == message_kind::commit_other);
    CHECK(b.empty());
    std::string huge = R"({"did":"did:plc:aaa","time_us":17644032272227250000,"kind":"identity"})";
    ra = fast(huge, a);
    rb = full(huge, b);
    REQUIRE(ra.has_value());
    REQUIRE(rb.has_value());
    CHECK(ra->cursor == 17644032272227250000u);
    CHECK(rb->cursor == ra->cursor);
    CHECK(ra->time_us == 0);
    CHECK_FALSE(peek_time_us(R"({"time_us":99999999999999999999999})").has_value());
}

TEST_CASE("jetstream: with the labeler DID, follows of others are classified without a parse") {
    const std::string lab = "did:plc:labelerxxxxxxxxxxxxxxxxx";
    jetstream_decoder keep(2u << 20, true, lab), full(2u << 20, false);
    const event_filter filter(lab);
    auto replace = [](std::string s, std::string_view from, std::string_view to) {
        s.replace(s.find(from), from.size(), to);
        return s;
    };
    const std::string of_us = follow_create;
    const std::string of_other = replace(of_us, lab, "did:plc:someoneelsexxxxxxxxxxxxx");
    const std::string escaped = replace(of_us, "did:plc:labeler", "did:plc:\\u006cabeler");
    const std::string bad_rkey = replace(of_other, "3l3qo2vuowo2b", "bad rkey!");
    for (const auto& line : {of_us, of_other, escaped, std::string(follow_delete), bad_rkey,
                             replace(of_other, "\"create\"", "\"update\"")}) {
        std::vector<event> a, b;
        auto ra = keep(line, a);
        auto rb = full(line, b);
        std::erase_if(b, [&](const event& e) { return !filter(e); });
        if (line == bad_rkey) {  // never looked at beyond "not ours"
            REQUIRE(ra.has_value());
            CHECK(a.empty());
            CHECK_FALSE(rb.has_value());
            continue;
        }
        REQUIRE(ra.has_value());
        REQUIRE(rb.has_value());
        CHECK(ra->kind == message_kind::follow);
        CHECK(rb->kind == message_kind::follow);
        CHECK(ra->cursor == rb->cursor);
        std::erase_if(a, [&](const event& e) { return !filter(e); });
        REQUIRE(a.size() == b.size());
        for (std::size_t i = 0; i < a.size(); ++i) {
            CHECK(a[i].kind == b[i].kind);
            CHECK(a[i].did == b[i].did);
            CHECK(a[i].rkey == b[i].rkey);
            CHECK(a[i].subject == b[i].subject);
        }
    }
    // The labeler's follow, even written with an escape, and deletes still reach the filter.
    std::vector<event> out;
    REQUIRE(keep(of_us, out).has_value());
    REQUIRE(out.size() == 1);
    CHECK(out[0].subject == lab);
    out.clear();
    REQUIRE(keep(escaped, out).has_value());
    REQUIRE(out.size() == 1);
    CHECK(out[0].subject == lab);
    out.clear();
    REQUIRE(keep(follow_delete, out).has_value());
    CHECK(out.size() == 1);
    out.clear();
    REQUIRE(keep(of_other, out).has_value());
    CHECK(out.empty());
}
