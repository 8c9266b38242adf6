#include <catch2/catch.hpp>

#include <map>
#include <numeric>
#include <set>

#include "storage/label_store.hpp"
#include "tests/storage/temp_dir.hpp"

using namespace labeler::storage;
using namespace labeler::storage::test;

namespace {

constexpr const char* kSrc = "did:plc:labeler0000000000000000";

struct fixture {
    temp_dir dir;
    std::unique_ptr<label_store> store;
    std::map<std::uint64_t, label_fields> by_seq;  // what each seq was

    fixture() {
        auto s = label_store::open(test_options(dir.data()));
        REQUIRE(s);
        store = std::move(*s);
    }
    // Appends in one batch; returns the seqs.
    std::vector<std::uint64_t> add(const std::vector<label_fields>& fs) {
        auto b = store->begin();
        std::vector<std::uint64_t> seqs;
        for (auto& f : fs) {
            auto seq = b.append(f, fake_cbor(f));
            REQUIRE(seq != 0);
            seqs.push_back(seq);
            by_seq[seq] = f;
        }
        auto r = store->commit(std::move(b));
        REQUIRE(r);
        return seqs;
    }
    query_response q(std::vector<std::string> patterns, std::uint64_t after = 0,
                     std::size_t limit = 50, std::vector<std::string> sources = {}) {
        query_request req;
        req.patterns = std::move(patterns);
        req.after_seq = after;
        req.limit = limit;
        req.sources = std::move(sources);
        auto r = store->query(req);
        if (!r) FAIL("query failed: " << r.error().message);
        for (auto& l : r->labels) CHECK(l.cbor == fake_cbor(by_seq.at(l.seq)));
        return std::move(*r);
    }
    static std::vector<std::uint64_t> seqs(const query_response& r) {
        std::vector<std::uint64_t> out;
        for (auto& l : r.labels) out.push_back(l.seq);
        return out;
    }
    // Pages through a query with `page` per request; returns every seq seen.
    std::vector<std::uint64_t> all_pages(std::vector<std::string> patterns, std::size_t page,
                                         std::vector<std::string> sources = {}) {
        std::vector<std::uint64_t> out;
        std::uint64_t cursor = 0;
        for (int guard = 0; guard < 100000; ++guard) {
            auto r = q(patterns, cursor, page, sources);
            auto s = seqs(r);
            CHECK(s.size() <= page);
            out.insert(out.end(), s.begin(), s.end());
            if (!r.next_cursor) break;
            CHECK(*r.next_cursor == s.back());
            cursor = *r.next_cursor;
        }
        return out;
    }
};

using seq_list = std::vector<std::uint64_t>;

}  // namespace

TEST_CASE("exact URI query returns the current entries in seq order", "[storage][query]") {
    fixture f;
    f.add({fields("did:plc:a", "kichi"), fields("did:plc:ab", "kichi"),
           fields("at://did:plc:a/app.bsky.feed.post/1", "kyo"), fields("did:plc:a", "kyo")});
    CHECK(fixture::seqs(f.q({"did:plc:a"})) == seq_list{1, 4});
    // Exact means exact: no match on a longer or a shorter URI.
    CHECK(fixture::seqs(f.q({"did:plc:ab"})) == seq_list{2});
    CHECK(f.q({"did:plc:"}).labels.empty());
    CHECK(f.q({"did:plc:a/"}).labels.empty());
    CHECK_FALSE(f.q({"did:plc:a"}).next_cursor);
}

TEST_CASE("superseded entries leave the query; the negation is current", "[storage][query]") {
    fixture f;
    f.add({fields("did:plc:a", "kichi")});                  // 1
    f.add({fields("did:plc:b", "kichi")});                  // 2
    f.add({fields("did:plc:a", "kichi", true)});            // 3 supersedes 1
    CHECK(fixture::seqs(f.q({"did:plc:a"})) == seq_list{3});
    CHECK(fixture::seqs(f.q({"*"})) == seq_list{2, 3});
    CHECK(fixture::seqs(f.q({"did:plc:*"})) == seq_list{2, 3});
    CHECK(fixture::seqs(f.q({"*"}, 0, 50, {kSrc})) == seq_list{2, 3});
    f.add({fields("did:plc:a", "kichi")});                  // 4 supersedes 3
    CHECK(fixture::seqs(f.q({"did:plc:a"})) == seq_list{4});
    CHECK(fixture::seqs(f.q({"*"})) == seq_list{2, 4});
    CHECK(fixture::seqs(f.q({"*"}, 0, 50, {kSrc})) == seq_list{2, 4});
    // Superseding inside one batch leaves only the last entry.
    f.add({fields("did:plc:c", "kyo"), fields("did:plc:c", "kyo", true),
           fields("did:plc:c", "kyo")});                    // 5, 6, 7
    CHECK(fixture::seqs(f.q({"did:plc:c"})) == seq_list{7});
    CHECK(fixture::seqs(f.q({"did:plc:c*"})) == seq_list{7});
    CHECK(fixture::seqs(f.q({"*"})) == seq_list{2, 4, 7});
    // The log keeps everything.
    CHECK(f.store->read_log(0, 100)->size() == 7);
}

TEST_CASE("prefix matching is exact bytes: _ % and case are literal", "[storage][query]") {
    fixture f;
    f.add({
        fields("did:web:a_b.example", "kichi"),                  // 1
        fields("did:web:axb.example", "kichi"),                  // 2  (would match LIKE a_b)
        fields("did:web:a%b.example", "kichi"),                  // 3
        fields("did:web:aZZb.example", "kichi"),                 // 4  (would match LIKE a%b)
        fields("did:plc:ABC", "kichi"),                          // 5
        fields("did:plc:abc", "kichi"),                          // 6  (would match ILIKE)
        fields("at://did:plc:ABC/app.bsky.feed.post/3k", "kyo"), // 7
        fields("did:web:a\\_b.example", "kichi"),                // 8  (LIKE escape)
    });
    CHECK(fixture::seqs(f.q({"did:web:a_*"})) == seq_list{1});
    CHECK(fixture::seqs(f.q({"did:web:a_b.example"})) == seq_list{1});
    CHECK(fixture::seqs(f.q({"did:web:a%*"})) == seq_list{3});
    CHECK(fixture::seqs(f.q({"did:web:a%b.example"})) == seq_list{3});
    CHECK(fixture::seqs(f.q({"did:web:a\\_*"})) == seq_list{8});
    CHECK(fixture::seqs(f.q({"did:plc:ABC*"})) == seq_list{5});
    CHECK(fixture::seqs(f.q({"did:plc:abc*"})) == seq_list{6});
    CHECK(fixture::seqs(f.q({"did:plc:A*"})) == seq_list{5});
    CHECK(fixture::seqs(f.q({"at://did:plc:ABC/*"})) == seq_list{7});
    CHECK(f.q({"at://did:plc:abc/*"}).labels.empty());
    CHECK(fixture::seqs(f.q({"did:web:*"})) == seq_list{1, 2, 3, 4, 8});
    // "did:plc:ABC*" includes the exact string leading to '*'.
    CHECK(fixture::seqs(f.q({"did:plc:ABC*", "did:plc:ABC"})) == seq_list{5});
}

TEST_CASE("several patterns are OR-ed and merged by seq without duplicates", "[storage][query]") {
    fixture f;
    f.add({fields("did:plc:a", "v"), fields("did:plc:b", "v"), fields("did:plc:c", "v"),
           fields("did:plc:a", "w"), fields("did:plc:bb", "v")});
    CHECK(fixture::seqs(f.q({"did:plc:c", "did:plc:a"})) == seq_list{1, 3, 4});
    CHECK(fixture::seqs(f.q({"did:plc:b*", "did:plc:b", "did:plc:a"})) == seq_list{1, 2, 4, 5});
    CHECK(fixture::seqs(f.q({"did:plc:a", "*"})) == seq_list{1, 2, 3, 4, 5});
}

TEST_CASE("cursor and limit page through every planner path", "[storage][query]") {
    fixture f;
    std::vector<label_fields> batch;
    for (int i = 0; i < 120; ++i) {
        batch.push_back(fields(fmt::format("did:plc:u{:03}", i % 40), fmt::format("v{}", i / 40)));
        if (i % 3 == 0) batch.back().src = "did:plc:othersource";
    }
    f.add(batch);
    seq_list all(120);
    std::iota(all.begin(), all.end(), 1);
    for (std::size_t page : {1, 7, 50, 250}) {
        INFO("page " << page);
        CHECK(f.all_pages({"*"}, page) == all);
        CHECK(f.all_pages({"did:plc:u*"}, page) == all);
        CHECK(f.all_pages({"did:plc:u00*"}, page) ==
              seq_list{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50,
                       81, 82, 83, 84, 85, 86, 87, 88, 89, 90});
        CHECK(f.all_pages({"did:plc:u005"}, page) == seq_list{6, 46, 86});
        seq_list other;
        for (std::uint64_t s = 1; s <= 120; s += 3) other.push_back(s);
        CHECK(f.all_pages({"*"}, page, {"did:plc:othersource"}) == other);
        CHECK(f.all_pages({"did:plc:u*"}, page, {"did:plc:othersource"}) == other);
        CHECK(f.all_pages({"*"}, page, {"did:plc:othersource", kSrc}) == all);
        CHECK(f.all_pages({"did:plc:u004"}, page, {"did:plc:othersource"}) == seq_list{85});
        CHECK(f.all_pages({"*"}, page, {"did:plc:nobody"}).empty());
    }
    // A cursor past the end returns nothing and no next cursor.
    auto r = f.q({"*"}, 120);
    CHECK(r.labels.empty());
    CHECK_FALSE(r.next_cursor);
    CHECK(f.q({"*"}, UINT64_MAX).labels.empty());
    // Exactly `limit` remaining: no next cursor.
    auto last = f.q({"*"}, 110, 10);
    CHECK(last.labels.size() == 10);
    CHECK_FALSE(last.next_cursor);
}

TEST_CASE("every prefix plan (dense probe, small range, sparse fallback) gives the same answer",
          "[storage][query]") {
    fixture f;
    // More than the planner's budget (16384 keys) under one prefix, plus other subjects.
    const int n = 17000;
    std::vector<label_fields> batch;
    for (int i = 0; i < n; ++i) {
        batch.push_back(fields(fmt::format("did:plc:big{:05}", (i * 7919) % n), "kichi"));
        if (i % 10 == 0) batch.push_back(fields(fmt::format("did:web:small{}", i), "kichi"));
        if (i % 5 == 0) batch.back().src = "did:plc:othersource";
    }
    f.add(batch);
    std::set<std::uint64_t> want_big, want_other_big;
    for (auto& [seq, lf] : f.by_seq)
        if (lf.uri.starts_with("did:plc:big")) {
            want_big.insert(seq);
            if (lf.src == "did:plc:othersource") want_other_big.insert(seq);
        }
    auto got = f.all_pages({"did:plc:big*"}, 250);
    CHECK(got == seq_list(want_big.begin(), want_big.end()));
    auto got_src = f.all_pages({"did:plc:b*"}, 250, {"did:plc:othersource"});
    CHECK(got_src == seq_list(want_other_big.begin(), want_other_big.end()));
    // The small prefix still uses its range and finds its 1,700 subjects.
    CHECK(f.all_pages({"did:web:*"}, 250).size() == 1700);

    // Sparse after the cursor: the seq-ordered probe finds nothing, the range is over budget,
    // so the planner resumes the seq-ordered scan past the probe.
    const std::uint64_t cursor = f.store->last_seq();
    std::vector<label_fields> late;
    for (int i = 0; i < 1500; ++i) late.push_back(fields(fmt::format("did:web:late{}", i), "kyo"));
    f.add(late);
    std::vector<label_fields> more;
    for (int i = 0; i < 300; ++i) more.push_back(fields(fmt::format("did:plc:bigz{}", i), "kyo"));
    auto more_seqs = f.add(more);
    std::vector<std::uint64_t> got_late;
    std::uint64_t c = cursor;
    for (;;) {
        auto r = f.q({"did:plc:big*"}, c, 100);
        for (auto& l : r.labels) got_late.push_back(l.seq);
        if (!r.next_cursor) break;
        c = *r.next_cursor;
    }
    CHECK(got_late == more_seqs);
}

TEST_CASE("invalid queries are refused, not crashed on", "[storage][query]") {
    fixture f;
    query_request q;
    CHECK_FALSE(f.store->query(q));  // no pattern
    q.patterns = {"did:*:x"};
    CHECK(f.store->query(q).error().code == int(store_errc::invalid_argument));
    q.patterns = {"did:plc:a"};
    q.limit = 0;
    CHECK_FALSE(f.store->query(q));
    q.limit = 10;
    q.patterns = {std::string("did:\0x", 6)};
    CHECK_FALSE(f.store->query(q));
    q.patterns = {"did:plc:none"};
    auto r = f.store->query(q);
    REQUIRE(r);
    CHECK(r->labels.empty());
}

TEST_CASE("query_each skips the log entries the visitor already has", "[storage][query]") {
    fixture f;
    std::vector<label_fields> batch;
    for (int i = 0; i < 20; ++i) batch.push_back(fields(fmt::format("did:plc:h{:02}", i), "kichi"));
    f.add(batch);
    struct partial : query_visitor {
        std::set<std::uint64_t> held;
        std::vector<std::uint64_t> asked, read;
        std::optional<std::uint64_t> next;
        void begin(std::optional<std::uint64_t> n) override { next = n; }
        bool have(std::uint64_t seq) override {
            asked.push_back(seq);
            return held.count(seq) > 0;
        }
        void label(std::uint64_t seq, std::string_view cbor) override {
            CHECK(cbor == "cbor|" + fmt::format("did:plc:h{:02}", seq - 1) + "|kichi|pos");
            read.push_back(seq);
        }
    };
    for (auto patterns : {std::vector<std::string>{"*"}, std::vector<std::string>{"did:plc:h*"},
                          std::vector<std::string>{"did:plc:h03", "did:plc:h04", "did:plc:h09"}}) {
        partial v;
        v.held = {2, 4, 5, 10};
        query_request q;
        q.patterns = patterns;
        q.limit = 10;
        REQUIRE(f.store->query_each(q, v));
        INFO(patterns.front());
        if (patterns.size() == 1) {
            CHECK(v.asked == seq_list{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
            CHECK(v.read == seq_list{1, 3, 6, 7, 8, 9});
            CHECK(v.next == std::optional<std::uint64_t>(10));
        } else {
            CHECK(v.asked == seq_list{4, 5, 10});
            CHECK(v.read.empty());  // all held: the log is not read at all
            CHECK_FALSE(v.next);
        }
    }
}
