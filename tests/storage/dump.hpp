#pragma once
// A text dump of everything the label store answers through its public API, for the accounts
// and record keys of the upgrade fixtures (tests/storage/fixture_writer.cpp). The fixture writer
// stores the dump next to the data folder it wrote; test_upgrade opens the folder with this
// build (which upgrades it) and requires the same dump: every read answers what it answered
// before the upgrade.
#include <fmt/format.h>

#include <string>
#include <vector>

#include "storage/label_store.hpp"

namespace labeler::storage::test {

// The fixture's population: accounts, their possible follow record keys, and record URIs.
inline std::vector<std::string> fixture_dids() {
    std::vector<std::string> out;
    for (int i = 0; i < 120; ++i) out.push_back(fmt::format("did:plc:fx{:04}aa_%Z", i));
    return out;
}
inline std::vector<std::string> fixture_rkeys() { return {"3laaaaaaaaa2a", "3lbbbbbbbbb2b", "3lccccccccc2c"}; }
inline std::string fixture_record_uri(int i) {
    return fmt::format("at://did:plc:fx{:04}aa_%Z/app.bsky.feed.post/3lpost{}", i, i);
}

inline std::string dump_store(label_store& store) {
    std::string out;
    auto b = store.begin();  // reads only: never committed
    for (auto& did : fixture_dids()) {
        for (auto& rkey : fixture_rkeys()) {
            auto f = b.follow_subject(did, rkey);
            if (!f) return "error: " + f.error().message;
            if (*f) out += fmt::format("F {} {} {}\n", did, rkey, **f);
        }
        auto n = b.follow_count(did);
        if (!n) return "error: " + n.error().message;
        auto a = b.account(did);
        if (!a) return "error: " + a.error().message;
        out += fmt::format("C {} {} {}\n", did, *n, int(*a));
    }
    std::vector<std::string> uris = fixture_dids();
    for (int i = 0; i < 10; ++i) uris.push_back(fixture_record_uri(i));
    for (auto& uri : uris) {
        auto st = store.state(uri);
        if (!st) return "error: " + st.error().message;
        for (auto& l : st->labels)
            out += fmt::format("S {} {} {} {} {}\n", uri, l.val, l.seq, l.neg, l.cts);
    }
    std::string after;
    for (;;) {
        auto page = store.followers(after, 7);
        if (!page) return "error: " + page.error().message;
        if (page->empty()) break;
        for (auto& d : *page) out += "W " + d + "\n";
        after = page->back();
    }
    query_request q;
    q.patterns = {"*"};
    q.limit = 50;
    for (;;) {
        auto r = store.query(q);
        if (!r) return "error: " + r.error().message;
        for (auto& l : r->labels) out += fmt::format("Q {}\n", l.seq);
        if (!r->next_cursor) break;
        q.after_seq = *r->next_cursor;
    }
    auto log = store.read_log(0, 100000);
    if (!log) return "error: " + log.error().message;
    for (auto& e : *log) out += fmt::format("L {} {}\n", e.seq, e.cbor);
    auto s = store.stats();
    out += fmt::format("N {} {} {} {}\n", s.last_seq, s.log_entries, s.current_labels,
                       s.follow_records);
    auto c = store.cursor("jetstream");
    out += fmt::format("K {}\n", c ? std::to_string(*c) : "none");
    return out;
}

}  // namespace labeler::storage::test
