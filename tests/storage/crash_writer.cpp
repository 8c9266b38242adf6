// storage_crash_writer <data folder> <batch|interval>: opens the store and commits batches in
// a loop until killed, printing "committed <batch#> <cursor>" after each commit.
//
// Batch b (numbered from the stored cursor "crash" + 1) has a recognizable shape that
// test_crash.cpp re-derives: it appends b%7+1 labels with uri "did:plc:b<b>-<i>" (i from 0),
// then, when b%4 == 0, a negation of "did:plc:b<b-1>-0"; it records follow ("did:plc:b<b>",
// "rk") and sets cursor "crash" = b. CBOR stand-in bytes: "b<b>|<uri>|pos" or "|neg".
#include <cstdio>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "storage/label_store.hpp"
#include "tests/storage/temp_dir.hpp"

using namespace labeler::storage;

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: storage_crash_writer <folder> <batch|interval>\n");
        return 2;
    }
    auto opts = test::test_options(argv[1]);
    if (std::string(argv[2]) == "interval") {
        opts.sync = store_options::sync_mode::interval;
        opts.sync_interval = std::chrono::milliseconds(2);
    }
    auto store = label_store::open(opts);
    if (!store) {
        std::fprintf(stderr, "open: %s\n", store.error().message.c_str());
        return 3;
    }
    auto& s = **store;
    for (std::uint64_t b = s.cursor("crash").value_or(0) + 1; b < 1'000'000; ++b) {
        auto batch = s.begin();
        auto add = [&](std::string uri, bool neg) {
            auto f = test::fields(std::move(uri), "v", neg);
            auto cbor = fmt::format("b{}|{}|{}", b, f.uri, neg ? "neg" : "pos");
            if (batch.append(f, std::move(cbor)) == 0) {
                std::fprintf(stderr, "append of batch %llu skipped\n", (unsigned long long)b);
                std::exit(4);
            }
        };
        for (std::uint64_t i = 0; i < b % 7 + 1; ++i) add(fmt::format("did:plc:b{}-{}", b, i), false);
        if (b % 4 == 0) add(fmt::format("did:plc:b{}-0", b - 1), true);
        batch.put_follow(fmt::format("did:plc:b{}", b), "rk", "did:plc:labeler");
        batch.set_cursor("crash", b);
        auto r = s.commit(std::move(batch));
        if (!r) {
            std::fprintf(stderr, "commit: %s\n", r.error().message.c_str());
            return 5;
        }
        std::printf("committed %llu %llu\n", (unsigned long long)b, (unsigned long long)b);
        std::fflush(stdout);
    }
    return 0;
}
