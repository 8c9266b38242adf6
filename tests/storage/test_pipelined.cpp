// Pipelined commits: the writer builds batch N+1 while the commit thread writes batch N. The
// test hook holds the commit thread before its write, so batch N+1 is built while batch N is
// certainly not in the store yet.
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "storage/label_store.hpp"
#include "tests/storage/temp_dir.hpp"

using namespace labeler;
using namespace labeler::storage;
using namespace labeler::storage::test;

namespace {

constexpr const char* kLab = "did:plc:labeler0000000000000000";

// A gate the commit thread waits at before each write while it is closed.
struct gate {
    std::mutex mu;
    std::condition_variable cv;
    bool open = true;
    int waiting = 0;
    void pass() {
        std::unique_lock lk(mu);
        ++waiting;
        cv.notify_all();
        cv.wait(lk, [&] { return open; });
        --waiting;
    }
    void close() {
        std::lock_guard lk(mu);
        open = false;
    }
    void release() {
        {
            std::lock_guard lk(mu);
            open = true;
        }
        cv.notify_all();
    }
    void wait_until_held() {
        std::unique_lock lk(mu);
        cv.wait(lk, [&] { return waiting > 0; });
    }
};

std::unique_ptr<label_store> open_gated(const std::filesystem::path& p, gate& g) {
    auto o = test_options(p);
    o.before_write_for_tests = [&g] { g.pass(); };
    auto s = label_store::open(o);
    REQUIRE(s);
    return std::move(*s);
}

std::uint64_t append(write_batch& b, const label_fields& f) { return b.append(f, fake_cbor(f)); }

std::vector<std::string> held_values(const subject_state& st) {
    std::vector<std::string> out;
    for (auto* h : st.held()) out.push_back(h->val);
    return out;
}

}  // namespace

TEST_CASE("a batch begun while the previous one is written reads through its writes",
          "[storage][pipelined]") {
    temp_dir t;
    gate g;
    {
        auto store = open_gated(t.data(), g);
        {
            auto b = store->begin();
            b.put_follow("did:plc:a", "r1", kLab);
            b.put_follow("did:plc:a", "r2", kLab);
            b.put_follow("did:plc:c", "r1", kLab);
            b.set_account("did:plc:c", account_status::deactivated);
            append(b, fields("did:plc:a", "kichi"));  // 1
            append(b, fields("did:plc:b", "kyo"));    // 2
            REQUIRE(store->commit(std::move(b)));
        }

        g.close();
        std::vector<std::uint64_t> published;
        std::mutex pub_mu;
        auto record = [&](result<std::vector<shared_entry>> r) {  // commit thread: no CHECK
            std::lock_guard lk(pub_mu);
            if (!r) published.push_back(0);
            else for (auto& e : *r) published.push_back(e->seq);
        };
        auto b1 = store->begin();
        b1.delete_follow("did:plc:a", "r1");
        b1.put_follow("did:plc:d", "r1", kLab);
        b1.set_account("did:plc:c", account_status::active);
        CHECK(append(b1, fields("did:plc:b", "kyo", true)) == 3);
        CHECK(append(b1, fields("did:plc:d", "kichi")) == 4);
        b1.set_cursor("jetstream", 10);
        REQUIRE(store->commit_async(std::move(b1), record));
        g.wait_until_held();
        CHECK(store->last_seq() == 2);  // batch 1 is not in the store yet

        auto b2 = store->begin();
        CHECK(b2.next_seq() == 5);
        CHECK(b2.follow_subject("did:plc:a", "r1").value() == std::nullopt);
        CHECK(b2.follow_subject("did:plc:a", "r2").value() == std::optional<std::string>(kLab));
        CHECK(b2.follow_subject("did:plc:d", "r1").value() == std::optional<std::string>(kLab));
        CHECK(b2.follow_count("did:plc:a").value() == 1);
        CHECK(b2.follow_count("did:plc:d").value() == 1);
        CHECK(b2.follow_count("did:plc:c").value() == 1);
        CHECK(b2.account("did:plc:c").value() == account_status::active);
        CHECK(held_values(b2.state("did:plc:b").value()).empty());
        CHECK(held_values(b2.state("did:plc:d").value()) == std::vector<std::string>{"kichi"});
        // Idempotency sees batch 1: the same negation and the same label again are skipped.
        CHECK(append(b2, fields("did:plc:b", "kyo", true)) == 0);
        CHECK(append(b2, fields("did:plc:d", "kichi")) == 0);
        // Batch 2's own changes on top of batch 1's.
        b2.delete_follow("did:plc:a", "r2");
        CHECK(b2.follow_count("did:plc:a").value() == 0);
        CHECK(append(b2, fields("did:plc:a", "kichi", true)) == 5);
        CHECK(append(b2, fields("did:plc:d", "kyo")) == 6);  // d: kichi (4) and kyo (6)
        b2.set_cursor("jetstream", 11);

        std::thread opener([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            g.release();
        });
        REQUIRE(store->commit_async(std::move(b2), record));  // waits for batch 1
        opener.join();
        store->drain();
        CHECK(published == std::vector<std::uint64_t>{3, 4, 5, 6});
        CHECK(store->last_seq() == 6);
    }

    // Everything is where it belongs after a reopen.
    auto o = test_options(t.data());
    auto s = label_store::open(o);
    REQUIRE(s);
    auto& store = **s;
    CHECK(store.last_seq() == 6);
    CHECK(store.cursor("jetstream") == 11u);
    CHECK(store.stats().follow_records == 2);  // c/r1 and d/r1
    auto b = store.begin();
    CHECK(b.follow_count("did:plc:a").value() == 0);
    CHECK(b.follow_count("did:plc:d").value() == 1);
    CHECK(b.account("did:plc:c").value() == account_status::active);
    CHECK(held_values(store.state("did:plc:a").value()).empty());
    CHECK(held_values(store.state("did:plc:d").value()) == std::vector<std::string>{"kichi", "kyo"});
    query_request q;
    q.patterns = {"*"};
    q.limit = 100;
    auto r = store.query(q);
    REQUIRE(r);
    std::vector<std::uint64_t> current;
    for (auto& l : r->labels) current.push_back(l.seq);
    CHECK(current == std::vector<std::uint64_t>{3, 4, 5, 6});  // 1 and 2 were superseded
    auto log = store.read_log(0, 100);
    REQUIRE(log);
    REQUIRE(log->size() == 6);
    for (std::size_t i = 0; i < 6; ++i) CHECK((*log)[i].seq == i + 1);
}

TEST_CASE("commit callbacks run in seq order and drain waits for all of them",
          "[storage][pipelined]") {
    temp_dir t;
    auto o = test_options(t.data());
    auto s = label_store::open(o);
    REQUIRE(s);
    auto& store = **s;
    std::vector<std::uint64_t> seen;  // written by the commit thread only
    std::atomic<int> calls{0};
    for (int i = 0; i < 200; ++i) {
        auto b = store.begin();
        for (int k = 0; k < 5; ++k)
            append(b, fields(fmt::format("did:plc:s{}", (i * 5 + k) % 300), i % 2 ? "kichi" : "kyo"));
        b.set_cursor("jetstream", std::uint64_t(i));
        REQUIRE(store.commit_async(std::move(b), [&](result<std::vector<shared_entry>> r) {
            if (!r) seen.push_back(0);  // commit thread: no CHECK here
            else for (auto& e : *r) seen.push_back(e->seq);
            ++calls;
        }));
    }
    store.drain();
    CHECK(calls == 200);
    REQUIRE(seen.size() == store.last_seq());
    for (std::size_t i = 0; i < seen.size(); ++i) CHECK(seen[i] == i + 1);
    CHECK(store.cursor("jetstream") == 199u);
}

TEST_CASE("an empty batch calls back at once and a stale one is refused without a call",
          "[storage][pipelined]") {
    temp_dir t;
    auto s = label_store::open(test_options(t.data()));
    REQUIRE(s);
    auto& store = **s;
    bool called = false;
    REQUIRE(store.commit_async(store.begin(), [&](result<std::vector<shared_entry>> r) {
        called = r && r->empty();
    }));
    CHECK(called);

    auto b1 = store.begin();
    auto b2 = store.begin();
    append(b1, fields("did:plc:a", "kichi"));
    append(b2, fields("did:plc:b", "kichi"));
    REQUIRE(store.commit_async(std::move(b1), [](auto) {}));
    called = false;
    auto r = store.commit_async(std::move(b2), [&](auto) { called = true; });
    REQUIRE_FALSE(r);
    CHECK(r.error().code == int(store_errc::invalid_argument));
    store.drain();
    CHECK_FALSE(called);
    CHECK(store.last_seq() == 1);
}
