#include <catch2/catch.hpp>

#include <prometheus/registry.h>

#include <fstream>
#include <thread>

#include "storage/label_store.hpp"
#include "tests/storage/temp_dir.hpp"

using namespace labeler::storage;
using namespace labeler::storage::test;

namespace {

std::unique_ptr<label_store> open_ok(const store_options& o,
                                     prometheus::Registry* reg = nullptr) {
    auto s = label_store::open(o, reg);
    if (!s) FAIL("open failed: " << s.error().message);
    return std::move(*s);
}

std::uint64_t append(write_batch& b, const label_fields& f) { return b.append(f, fake_cbor(f)); }

double metric_value(prometheus::Registry& reg, const std::string& name) {
    for (auto& fam : reg.Collect()) {
        if (fam.name != name || fam.metric.empty()) continue;
        auto& m = fam.metric[0];
        switch (fam.type) {
            case prometheus::MetricType::Counter: return m.counter.value;
            case prometheus::MetricType::Gauge: return m.gauge.value;
            case prometheus::MetricType::Histogram: return double(m.histogram.sample_count);
            default: return -1;
        }
    }
    return -1;
}

}  // namespace

TEST_CASE("a new store starts empty and stamps the folder", "[storage]") {
    temp_dir t;
    auto store = open_ok(test_options(t.data()));
    CHECK(store->last_seq() == 0);
    CHECK(store->data_stamp().environment == "test");
    CHECK_FALSE(store->cursor("jetstream"));
    auto log = store->read_log(0, 100);
    REQUIRE(log);
    CHECK(log->empty());
    auto st = store->state("did:plc:nobody");
    REQUIRE(st);
    CHECK(st->labels.empty());
    CHECK(store->stats().disk_bytes > 0);
}

TEST_CASE("appends get increasing seqs and survive close and reopen", "[storage]") {
    temp_dir t;
    {
        auto store = open_ok(test_options(t.data()));
        auto b = store->begin();
        CHECK(b.next_seq() == 1);
        CHECK(append(b, fields("did:plc:a", "kichi")) == 1);
        CHECK(append(b, fields("did:plc:b", "kyo")) == 2);
        CHECK(b.next_seq() == 3);
        b.set_cursor("jetstream", 1700000000000000);
        auto r = store->commit(std::move(b));
        REQUIRE(r);
        REQUIRE(r->size() == 2);
        CHECK((*r)[0]->seq == 1);
        CHECK((*r)[0]->cbor == fake_cbor(fields("did:plc:a", "kichi")));
        CHECK((*r)[1]->seq == 2);
        CHECK(store->last_seq() == 2);
        CHECK(store->cursor("jetstream") == 1700000000000000u);
    }
    {
        auto store = open_ok(test_options(t.data()));
        CHECK(store->last_seq() == 2);
        CHECK(store->cursor("jetstream") == 1700000000000000u);
        CHECK_FALSE(store->cursor("firehose"));
        auto log = store->read_log(0, 10);
        REQUIRE(log);
        REQUIRE(log->size() == 2);
        CHECK((*log)[1].cbor == fake_cbor(fields("did:plc:b", "kyo")));
        auto st = store->state("did:plc:a");
        REQUIRE(st);
        REQUIRE(st->labels.size() == 1);
        CHECK(st->labels[0].val == "kichi");
        CHECK(st->labels[0].seq == 1);
        CHECK(st->labels[0].cts == "2026-11-29T10:00:00.000Z");
        auto s = store->stats();
        CHECK(s.log_entries == 2);
        CHECK(s.current_labels == 2);

        // Numbering continues after the reopen: never reused.
        auto b = store->begin();
        CHECK(append(b, fields("did:plc:c", "kichi")) == 3);
        REQUIRE(store->commit(std::move(b)));
    }
    auto store = open_ok(test_options(t.data()));
    CHECK(store->last_seq() == 3);
    auto log = store->read_log(1, 10);
    REQUIRE(log);
    REQUIRE(log->size() == 2);
    CHECK((*log)[0].seq == 2);
    CHECK((*log)[1].seq == 3);
    auto one = store->read_log(0, 1);
    REQUIRE(one);
    CHECK(one->size() == 1);
    CHECK(store->read_log(3, 10)->empty());
}

TEST_CASE("an encoding given after append is what the log holds, and none is refused", "[storage]") {
    temp_dir t;
    auto store = open_ok(test_options(t.data()));
    auto b = store->begin();
    auto a = fields("did:plc:a", "kichi");
    auto c = fields("did:plc:c", "kyo");
    CHECK(b.append(a, {}) == 1);
    CHECK(b.append(c, {}) == 2);
    CHECK(b.state("did:plc:a")->held().size() == 1);  // the overlay sees it before encoding
    CHECK_FALSE(b.set_encoding(3, "x"));               // not an entry of this batch
    CHECK_FALSE(b.set_encoding(1, ""));                // empty
    CHECK(b.set_encoding(2, fake_cbor(c)));
    CHECK_FALSE(b.set_encoding(2, fake_cbor(c)));      // already set
    {
        // one entry still has no encoding: the commit is refused and nothing is written
        auto incomplete = store->begin();
        CHECK(incomplete.append(fields("did:plc:z", "kyo"), {}) == 1);
        auto r = store->commit(std::move(incomplete));
        REQUIRE_FALSE(r);
        CHECK(r.error().message.find("without its encoding") != std::string::npos);
        CHECK(store->last_seq() == 0);
    }
    b = store->begin();
    CHECK(b.append(a, {}) == 1);
    CHECK(b.append(c, {}) == 2);
    CHECK(b.set_encoding(2, fake_cbor(c)));
    CHECK(b.set_encoding(1, fake_cbor(a)));
    auto r = store->commit(std::move(b));
    REQUIRE(r);
    auto log = store->read_log(0, 10);
    REQUIRE(log);
    REQUIRE(log->size() == 2);
    CHECK((*log)[0].cbor == fake_cbor(a));
    CHECK((*log)[1].cbor == fake_cbor(c));
}

TEST_CASE("negation supersedes and the state tracks the latest entry per value", "[storage]") {
    temp_dir t;
    auto store = open_ok(test_options(t.data()));
    auto b = store->begin();
    CHECK(append(b, fields("did:plc:a", "kichi")) == 1);
    CHECK(append(b, fields("did:plc:a", "kyo")) == 2);
    // Read-your-writes inside the batch.
    auto st = b.state("did:plc:a");
    REQUIRE(st);
    CHECK(st->held().size() == 2);
    CHECK(append(b, fields("did:plc:a", "kichi", true)) == 3);
    REQUIRE(store->commit(std::move(b)));

    auto s = store->state("did:plc:a");
    REQUIRE(s);
    REQUIRE(s->labels.size() == 2);  // sorted by value
    CHECK(s->labels[0].val == "kichi");
    CHECK(s->labels[0].neg);
    CHECK(s->labels[0].seq == 3);
    CHECK(s->labels[1].val == "kyo");
    CHECK_FALSE(s->labels[1].neg);
    REQUIRE(s->held().size() == 1);
    CHECK(s->held()[0]->val == "kyo");
    CHECK(store->stats().current_labels == 1);
    CHECK(store->stats().log_entries == 3);

    // Re-issuing after a negation works and counts again.
    auto b2 = store->begin();
    auto f = fields("did:plc:a", "kichi");
    f.cts = "2026-11-30T00:00:00.000Z";
    f.exp = "2026-12-30T00:00:00.000Z";
    CHECK(append(b2, f) == 4);
    REQUIRE(store->commit(std::move(b2)));
    s = store->state("did:plc:a");
    REQUIRE(s);
    CHECK(s->find("kichi")->seq == 4);
    CHECK(s->find("kichi")->cts == "2026-11-30T00:00:00.000Z");
    CHECK(s->find("kichi")->exp == "2026-12-30T00:00:00.000Z");
    CHECK(store->stats().current_labels == 2);
    // The full history stays in the log for replay.
    CHECK(store->read_log(0, 100)->size() == 4);
}

TEST_CASE("applying the same input twice adds no log entries", "[storage]") {
    temp_dir t;
    auto store = open_ok(test_options(t.data()));
    auto apply = [&] {
        auto b = store->begin();
        b.put_follow("did:plc:fan", "rk1", "did:plc:labeler");
        append(b, fields("did:plc:fan", "kichi"));
        b.set_cursor("jetstream", 42);
        auto skipped = b.skipped();
        auto r = store->commit(std::move(b));
        REQUIRE(r);
        return std::pair{r->size(), skipped};
    };
    CHECK(apply() == std::pair<std::size_t, std::size_t>{1, 0});
    CHECK(apply() == std::pair<std::size_t, std::size_t>{0, 1});
    CHECK(store->last_seq() == 1);
    CHECK(store->stats().follow_records == 1);

    auto b = store->begin();
    // A negation of a value never held is skipped too; so is a repeated negation.
    CHECK(append(b, fields("did:plc:fan", "kyo", true)) == 0);
    CHECK(append(b, fields("did:plc:fan", "kichi", true)) == 2);
    CHECK(append(b, fields("did:plc:fan", "kichi", true)) == 0);
    CHECK(b.skipped() == 2);
    CHECK(b.appended() == 1);
    REQUIRE(store->commit(std::move(b)));
    CHECK(store->last_seq() == 2);
}

TEST_CASE("follow records: several per account, idempotent puts and deletes", "[storage]") {
    temp_dir t;
    auto store = open_ok(test_options(t.data()));
    auto b = store->begin();
    CHECK(*b.follow_count("did:plc:f") == 0);
    b.put_follow("did:plc:f", "rk1", "did:plc:labeler");
    b.put_follow("did:plc:f", "rk2", "did:plc:labeler");
    b.put_follow("did:plc:f", "rk2", "did:plc:labeler");  // duplicate event
    b.put_follow("did:plc:f2", "rk1", "did:plc:labeler");
    b.put_follow("did:plc:f-longer", "rk1", "did:plc:labeler");
    CHECK(*b.follow_count("did:plc:f") == 2);  // read-your-writes, prefix exact
    CHECK(b.follow_subject("did:plc:f", "rk1")->value() == "did:plc:labeler");
    CHECK_FALSE(b.follow_subject("did:plc:f", "rk9")->has_value());
    REQUIRE(store->commit(std::move(b)));
    CHECK(store->stats().follow_records == 4);

    auto b2 = store->begin();
    CHECK(*b2.follow_count("did:plc:f") == 2);
    b2.delete_follow("did:plc:f", "rk1");
    CHECK(*b2.follow_count("did:plc:f") == 1);  // deletion visible before commit
    b2.delete_follow("did:plc:f", "rk1");        // duplicate delete: no-op
    b2.delete_follow("did:plc:other", "rkX");    // not ours: no-op
    CHECK(*b2.follow_count("did:plc:f") == 1);
    REQUIRE(store->commit(std::move(b2)));
    CHECK(store->stats().follow_records == 3);

    auto b3 = store->begin();
    b3.delete_follow("did:plc:f", "rk2");
    CHECK(*b3.follow_count("did:plc:f") == 0);
    CHECK(b3.follow_count("did:plc:f2").value() == 1);
    REQUIRE(store->commit(std::move(b3)));
    CHECK(store->stats().follow_records == 2);

    auto fs = store->followers("", 10);
    REQUIRE(fs);
    CHECK(*fs == std::vector<std::string>{"did:plc:f-longer", "did:plc:f2"});
}

TEST_CASE("followers() lists each follower once, with paging", "[storage]") {
    temp_dir t;
    auto store = open_ok(test_options(t.data()));
    auto b = store->begin();
    for (int i = 0; i < 25; ++i)
        for (int r = 0; r < 3; ++r)
            b.put_follow(fmt::format("did:plc:f{:03}", i), fmt::format("rk{}", r), "did:plc:l");
    REQUIRE(store->commit(std::move(b)));
    std::vector<std::string> all;
    std::string after;
    for (;;) {
        auto page = store->followers(after, 10);
        REQUIRE(page);
        if (page->empty()) break;
        all.insert(all.end(), page->begin(), page->end());
        after = page->back();
    }
    REQUIRE(all.size() == 25);
    CHECK(all.front() == "did:plc:f000");
    CHECK(all.back() == "did:plc:f024");
    CHECK(std::is_sorted(all.begin(), all.end()));
    CHECK(store->stats().follow_records == 75);
}

TEST_CASE("account statuses: only non-active ones are stored", "[storage]") {
    temp_dir t;
    auto store = open_ok(test_options(t.data()));
    auto b = store->begin();
    CHECK(*b.account("did:plc:x") == account_status::active);
    b.set_account("did:plc:x", account_status::takendown);
    CHECK(*b.account("did:plc:x") == account_status::takendown);
    CHECK_FALSE(b.empty());
    REQUIRE(store->commit(std::move(b)));
    auto b2 = store->begin();
    CHECK(*b2.account("did:plc:x") == account_status::takendown);
    b2.set_account("did:plc:x", account_status::active);
    CHECK(*b2.account("did:plc:x") == account_status::active);
    REQUIRE(store->commit(std::move(b2)));
    CHECK(*store->begin().account("did:plc:x") == account_status::active);
}

TEST_CASE("keys containing NUL are rejected, never written", "[storage]") {
    temp_dir t;
    auto store = open_ok(test_options(t.data()));
    auto b = store->begin();
    using namespace std::string_literals;
    CHECK(append(b, fields("did:plc:a\0b"s, "kichi")) == 0);
    CHECK(append(b, fields("", "kichi")) == 0);
    b.put_follow("did:plc:f\0x"s, "rk", "did:plc:l");
    b.put_follow("did:plc:f", "r\0k"s, "did:plc:l");
    CHECK(b.rejected() == 4);
    CHECK(b.empty());
    REQUIRE(store->commit(std::move(b)));
    CHECK(store->last_seq() == 0);
    CHECK_FALSE(store->state("did:plc:a\0b"s));
}

TEST_CASE("an empty batch commits nothing; stale batches are refused", "[storage]") {
    temp_dir t;
    auto store = open_ok(test_options(t.data()));
    auto e = store->commit(store->begin());
    REQUIRE(e);
    CHECK(e->empty());

    auto b1 = store->begin();
    auto b2 = store->begin();
    append(b1, fields("did:plc:a", "kichi"));
    append(b2, fields("did:plc:b", "kichi"));
    REQUIRE(store->commit(std::move(b1)));
    auto r = store->commit(std::move(b2));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == int(store_errc::invalid_argument));
    CHECK(store->last_seq() == 1);
    // The store still works: the refusal did not mark it failed.
    auto b3 = store->begin();
    CHECK(append(b3, fields("did:plc:b", "kichi")) == 2);
    REQUIRE(store->commit(std::move(b3)));
}

TEST_CASE("the environment stamp refuses another environment, DID or key", "[storage][stamp]") {
    temp_dir t;
    stamp prod{"production", "did:plc:aaa", "did:key:zQ3sAAA"};
    auto opts = test_options(t.data());
    opts.expected = prod;
    open_ok(opts);  // creates and stamps, then closes

    SECTION("same stamp opens") { CHECK(open_ok(opts)->data_stamp().labeler_did == "did:plc:aaa"); }
    SECTION("different environment, DID and key") {
        opts.expected = {"staging", "did:plc:bbb", "did:key:zQ3sBBB"};
        auto r = label_store::open(opts);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == int(store_errc::stamp_mismatch));
        auto m = r.error().message;
        INFO(m);
        const std::string folder = t.data().string();
        for (std::string s : {"\"production\"", "\"staging\"", "did:plc:aaa", "did:plc:bbb",
                              "did:key:zQ3sAAA", "did:key:zQ3sBBB", folder.c_str(),
                              "environment, labeler DID, signing key differ",
                              "refusing to mix environments"})
            CHECK(m.find(s) != std::string::npos);
    }
    SECTION("only the DID differs") {
        opts.expected.labeler_did = "did:plc:bbb";
        auto r = label_store::open(opts);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == int(store_errc::stamp_mismatch));
        auto m = r.error().message;
        INFO(m);
        CHECK(m.find("did:plc:aaa") != std::string::npos);
        CHECK(m.find("did:plc:bbb") != std::string::npos);
        CHECK(m.find("labeler DID differs") != std::string::npos);
    }
    SECTION("only the key differs") {
        opts.expected.key_fingerprint = "did:key:zQ3sOTHER";
        auto r = label_store::open(opts);
        REQUIRE_FALSE(r);
        auto m = r.error().message;
        INFO(m);
        CHECK(m.find("did:key:zQ3sAAA") != std::string::npos);
        CHECK(m.find("did:key:zQ3sOTHER") != std::string::npos);
        CHECK(m.find("signing key differs") != std::string::npos);
    }
    SECTION("only the environment differs") {
        opts.expected.environment = "development";
        auto r = label_store::open(opts);
        REQUIRE_FALSE(r);
        CHECK(r.error().message.find("\"development\"") != std::string::npos);
        CHECK(r.error().message.find("environment differs") != std::string::npos);
    }
    SECTION("a read-only inspection without an expected stamp sees the real one") {
        opts.expected = {};
        opts.read_only = true;
        auto s = open_ok(opts);
        CHECK(s->data_stamp().environment == "production");
        auto c = s->commit(s->begin());
        REQUIRE_FALSE(c);
        CHECK(c.error().code == int(store_errc::read_only));
    }
    SECTION("a writable open needs a complete expected stamp") {
        opts.expected.key_fingerprint.clear();
        auto r = label_store::open(opts);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == int(store_errc::invalid_argument));
    }
}

TEST_CASE("open refuses missing, foreign and locked folders", "[storage]") {
    temp_dir t;
    auto opts = test_options(t.data());
    SECTION("missing without create_if_missing") {
        opts.create_if_missing = false;
        auto r = label_store::open(opts);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == int(store_errc::not_found));
    }
    SECTION("a non-empty folder that is not a store") {
        std::filesystem::create_directories(opts.path);
        std::ofstream(opts.path / "notes.txt") << "hello";
        auto r = label_store::open(opts);
        REQUIRE_FALSE(r);
        CHECK(r.error().message.find("not empty") != std::string::npos);
    }
    SECTION("a folder already open elsewhere") {
        auto first = open_ok(opts);
        auto r = label_store::open(opts);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == int(store_errc::locked));
        CHECK(r.error().message.find(opts.path.string()) != std::string::npos);
    }
}

TEST_CASE("interval sync mode commits and recovers", "[storage]") {
    temp_dir t;
    auto opts = test_options(t.data());
    opts.sync = store_options::sync_mode::interval;
    opts.sync_interval = std::chrono::milliseconds(5);
    {
        auto store = open_ok(opts);
        for (int i = 0; i < 20; ++i) {
            auto b = store->begin();
            append(b, fields(fmt::format("did:plc:i{}", i), "kichi"));
            b.set_cursor("firehose", std::uint64_t(i));
            REQUIRE(store->commit(std::move(b)));
        }
        REQUIRE(store->flush());
    }
    auto store = open_ok(opts);
    CHECK(store->last_seq() == 20);
    CHECK(store->cursor("firehose") == 19u);
}

TEST_CASE("metrics are exported when a registry is given", "[storage][metrics]") {
    temp_dir t;
    prometheus::Registry reg;
    auto store = open_ok(test_options(t.data()), &reg);
    auto b = store->begin();
    append(b, fields("did:plc:a", "kichi"));
    append(b, fields("did:plc:b", "kichi"));
    b.put_follow("did:plc:a", "rk", "did:plc:l");
    REQUIRE(store->commit(std::move(b)));
    CHECK(metric_value(reg, "labeler_storage_commits_total") == 1);
    CHECK(metric_value(reg, "labeler_storage_commit_seconds") == 1);
    CHECK(metric_value(reg, "labeler_storage_labels_appended_total") == 2);
    CHECK(metric_value(reg, "labeler_storage_last_seq") == 2);
    CHECK(metric_value(reg, "labeler_storage_log_entries") == 2);
    CHECK(metric_value(reg, "labeler_storage_current_labels") == 2);
    CHECK(metric_value(reg, "labeler_storage_follow_records") == 1);
    CHECK(metric_value(reg, "labeler_storage_disk_bytes") > 0);
}

TEST_CASE("readers run concurrently with the writer and see whole batches", "[storage]") {
    temp_dir t;
    auto store = open_ok(test_options(t.data()));
    std::atomic<bool> done{false};
    std::atomic<int> bad{0};
    std::thread reader([&] {
        while (!done) {
            // Each batch appends 4 labels, so a reader sees multiples of 4 entries.
            query_request q;
            q.patterns = {"*"};
            q.limit = 250;
            auto r = store->query(q);
            if (!r || r->labels.size() % 4 != 0) ++bad;
            for (std::size_t i = 1; r && i < r->labels.size(); ++i)
                if (r->labels[i].seq <= r->labels[i - 1].seq) ++bad;
        }
    });
    for (int i = 0; i < 50; ++i) {
        auto b = store->begin();
        for (int j = 0; j < 4; ++j) append(b, fields(fmt::format("did:plc:c{}-{}", i, j), "kyo"));
        REQUIRE(store->commit(std::move(b)));
    }
    done = true;
    reader.join();
    CHECK(bad == 0);
    CHECK(store->last_seq() == 200);
}

TEST_CASE("wait_for_compactions returns once RocksDB is idle", "[storage]") {
    temp_dir t;
    auto store = open_ok(test_options(t.data()));
    auto b = store->begin();
    for (int i = 0; i < 100; ++i) append(b, fields("did:plc:w" + std::to_string(i), "kyo"));
    REQUIRE(store->commit(std::move(b)));
    REQUIRE(store->flush());
    CHECK(store->wait_for_compactions(std::chrono::seconds(30)));
}
