#include "tests/e2e/fake_jetstream.hpp"

#include <fmt/format.h>

namespace labeler::testing::jetstream_json {

namespace {
// A TID-looking revision derived from the time (shape only; nothing checks it).
std::string rev_of(std::uint64_t time_us) { return fmt::format("3l{:011x}", time_us % (1ull << 44)); }
}  // namespace

std::string follow(std::string_view did, std::uint64_t time_us, std::string_view rkey,
                   std::string_view subject) {
    return fmt::format(
        R"({{"did":"{}","time_us":{},"kind":"commit","commit":{{"rev":"{}","operation":"create",)"
        R"("collection":"app.bsky.graph.follow","rkey":"{}","record":{{"$type":"app.bsky.graph.follow",)"
        R"("createdAt":"2026-11-29T10:00:00.000Z","subject":"{}"}},)"
        R"("cid":"bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi"}}}})",
        did, time_us, rev_of(time_us), rkey, subject);
}

std::string unfollow(std::string_view did, std::uint64_t time_us, std::string_view rkey) {
    return fmt::format(
        R"({{"did":"{}","time_us":{},"kind":"commit","commit":{{"rev":"{}","operation":"delete",)"
        R"("collection":"app.bsky.graph.follow","rkey":"{}"}}}})",
        did, time_us, rev_of(time_us), rkey);
}

std::string other_commit(std::string_view did, std::uint64_t time_us, std::string_view collection,
                         std::string_view rkey) {
    return fmt::format(
        R"({{"did":"{}","time_us":{},"kind":"commit","commit":{{"rev":"{}","operation":"create",)"
        R"("collection":"{}","rkey":"{}","record":{{"$type":"{}","createdAt":"2026-11-29T10:00:00.000Z",)"
        R"("subject":{{"uri":"at://did:plc:abc/app.bsky.feed.post/3l3qo2vuowo2b","cid":"bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi"}}}},)"
        R"("cid":"bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi"}}}})",
        did, time_us, rev_of(time_us), collection, rkey, collection);
}

std::string account(std::string_view did, std::uint64_t time_us, bool active,
                    std::string_view status) {
    std::string st = status.empty() ? "" : fmt::format(R"(,"status":"{}")", status);
    return fmt::format(
        R"({{"did":"{}","time_us":{},"kind":"account","account":{{"active":{},"did":"{}",)"
        R"("seq":{},"time":"2026-11-29T10:00:00.000Z"{}}}}})",
        did, time_us, active ? "true" : "false", did, time_us % 1000000007, st);
}

std::string identity(std::string_view did, std::uint64_t time_us, std::string_view handle) {
    return fmt::format(
        R"({{"did":"{}","time_us":{},"kind":"identity","identity":{{"did":"{}","handle":"{}",)"
        R"("seq":{},"time":"2026-11-29T10:00:00.000Z"}}}})",
        did, time_us, did, handle, time_us % 1000000007);
}

}  // namespace labeler::testing::jetstream_json
