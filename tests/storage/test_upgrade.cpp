// A data folder written by the schema-1 store (which still had the by_uri and by_src column
// families) opens with this build: the folder is upgraded in place, no label is lost, and every
// query answers exactly what the label log says is current.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include "src/atproto/label.hpp"
#include "storage/label_store.hpp"
#include "tests/storage/dump.hpp"
#include "tests/storage/temp_dir.hpp"

using namespace labeler;
using namespace labeler::storage;
using namespace labeler::storage::test;

namespace {

constexpr const char* kSrc = "did:plc:ar7c4by46qjdydhdevvrndac";

store_options fixture_options(const std::filesystem::path& p, bool read_only = false) {
    store_options o;
    o.path = p;
    o.expected = {"bench", kSrc, "did:key:zQ3shBenchKeyFingerprint000000000000000000"};
    o.read_only = read_only;
    o.block_cache_bytes = 8u << 20;
    return o;
}

std::vector<std::uint64_t> all_pages(label_store& s, std::vector<std::string> patterns,
                                     std::vector<std::string> sources = {}) {
    std::vector<std::uint64_t> out;
    query_request q;
    q.patterns = std::move(patterns);
    q.sources = std::move(sources);
    q.limit = 7;
    for (int guard = 0; guard < 1000; ++guard) {
        auto r = s.query(q);
        REQUIRE(r);
        for (auto& l : r->labels) out.push_back(l.seq);
        if (!r->next_cursor) break;
        q.after_seq = *r->next_cursor;
    }
    return out;
}

}  // namespace

TEST_CASE("a schema-1 folder is upgraded in place and answers queries from its log",
          "[storage][upgrade]") {
    temp_dir dir;
    const std::string cmd = "tar -xzf '" + std::string(STORAGE_FIXTURES) + "/schema1.tar.gz' -C '" +
                            dir.path().string() + "'";
    REQUIRE(std::system(cmd.c_str()) == 0);

    // Read-only tools cannot upgrade, and say how to.
    auto ro = label_store::open(fixture_options(dir.data(), true));
    REQUIRE_FALSE(ro);
    CHECK_THAT(ro.error().message, Catch::Contains("schema version 1") &&
                                       Catch::Contains("read-write"));

    auto opened = label_store::open(fixture_options(dir.data()));
    REQUIRE(opened);
    auto& store = **opened;
    REQUIRE(store.last_seq() == 300);

    // The oracle: the last log entry per (uri, val) is that pair's current entry.
    auto log = store.read_log(0, 1000);
    REQUIRE(log);
    REQUIRE(log->size() == 300);
    std::map<std::pair<std::string, std::string>, std::uint64_t> current;
    std::map<std::string, std::set<std::uint64_t>> by_uri;
    for (auto& e : *log) {
        auto l = atproto::decode_cbor(e.cbor);
        REQUIRE(l);
        CHECK(l->src == kSrc);
        current[{l->uri, l->val}] = e.seq;
    }
    std::vector<std::uint64_t> want_all;
    for (auto& [k, seq] : current) {
        want_all.push_back(seq);
        by_uri[k.first].insert(seq);
    }
    std::sort(want_all.begin(), want_all.end());
    REQUIRE(want_all.size() > 200);  // re-rolls superseded some entries

    CHECK(all_pages(store, {"*"}) == want_all);
    CHECK(all_pages(store, {"did:*"}) == want_all);
    CHECK(all_pages(store, {"*"}, {kSrc}) == want_all);
    CHECK(all_pages(store, {"*"}, {"did:plc:someoneelse"}).empty());
    std::size_t checked = 0;
    for (auto& [uri, seqs] : by_uri) {
        if (checked++ % 7) continue;
        CHECK(all_pages(store, {uri}) == std::vector<std::uint64_t>(seqs.begin(), seqs.end()));
        CHECK(all_pages(store, {uri}, {kSrc}).size() == seqs.size());
        CHECK(all_pages(store, {uri.substr(0, uri.size() - 3) + "*"}).size() >= seqs.size());
    }

    // Writing continues at seq 301, and the folder now opens read-only too.
    auto b = store.begin();
    auto f = fields("did:plc:afterupgrade", "kichi", false, kSrc);
    REQUIRE(b.append(f, fake_cbor(f)) == 301);
    REQUIRE(store.commit(std::move(b)));
    opened->reset();
    auto again = label_store::open(fixture_options(dir.data(), true));
    REQUIRE(again);
    CHECK((*again)->last_seq() == 301);
    want_all.push_back(301);
    CHECK(all_pages(**again, {"*"}) == want_all);
    CHECK(all_pages(**again, {"did:plc:afterupgrade"}) == std::vector<std::uint64_t>{301});
}

TEST_CASE("a schema-2 folder is upgraded in place and every read answers as before",
          "[storage][upgrade]") {
    temp_dir dir;
    const std::string cmd = "tar -xzf '" + std::string(STORAGE_FIXTURES) + "/schema2.tar.gz' -C '" +
                            dir.path().string() + "'";
    REQUIRE(std::system(cmd.c_str()) == 0);
    std::ifstream in(std::string(STORAGE_FIXTURES) + "/schema2.expected.txt");
    const std::string expected((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE(expected.size() > 10000);

    auto refused = label_store::open(fixture_options(dir.data(), true));
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error().message, Catch::Contains("schema version 2") &&
                                            Catch::Contains("read-write"));
    {
        auto opened = label_store::open(fixture_options(dir.data()));
        REQUIRE(opened);
        CHECK(dump_store(**opened) == expected);
    }
    // Reopened (no second upgrade), and read-only.
    auto again = label_store::open(fixture_options(dir.data()));
    REQUIRE(again);
    CHECK(dump_store(**again) == expected);
    again->reset();
    auto ro = label_store::open(fixture_options(dir.data(), true));
    REQUIRE(ro);
    CHECK(dump_store(**ro) == expected);
}
