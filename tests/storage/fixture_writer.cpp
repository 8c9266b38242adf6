// storage_fixture_writer FOLDER: writes a deterministic label store into FOLDER/data (follow
// records, several per account, deletes, account statuses, labels, re-rolls, negations, labels
// on record URIs) and its dump (tests/storage/dump.hpp) to FOLDER/expected.txt. Run with the
// build of one schema, it makes the upgrade fixture of that schema (tests/storage/fixtures/).
#include <cstdio>
#include <fstream>
#include <random>

#include "storage/label_store.hpp"
#include "tests/storage/dump.hpp"

using namespace labeler;
using namespace labeler::storage;
using namespace labeler::storage::test;

namespace {
constexpr const char* kSrc = "did:plc:ar7c4by46qjdydhdevvrndac";
constexpr const char* kValues[] = {"daikichi", "kichi", "kyo"};
}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: storage_fixture_writer FOLDER\n");
        return 2;
    }
    const std::filesystem::path dir = argv[1];
    store_options o;
    o.path = dir / "data";
    o.expected = {"bench", kSrc, "did:key:zQ3shBenchKeyFingerprint000000000000000000"};
    auto opened = label_store::open(o);
    if (!opened) {
        std::fprintf(stderr, "open: %s\n", opened.error().message.c_str());
        return 1;
    }
    auto& store = **opened;
    std::mt19937_64 rng(7);
    const auto dids = fixture_dids();
    const auto rkeys = fixture_rkeys();
    int tick = 0;
    auto label = [&](write_batch& b, const std::string& uri, const char* val, bool neg) {
        label_fields f;
        f.src = kSrc;
        f.uri = uri;
        f.val = val;
        f.neg = neg;
        f.cts = fmt::format("2026-11-29T10:{:02}:{:02}.000Z", (tick / 60) % 60, tick % 60);
        ++tick;
        b.append(f, fmt::format("cbor|{}|{}|{}", uri, val, neg ? "neg" : "pos"));
    };
    for (int batch = 0; batch < 30; ++batch) {
        auto b = store.begin();
        for (int op = 0; op < 25; ++op) {
            const auto& did = dids[rng() % dids.size()];
            const auto& rkey = rkeys[rng() % (rng() % 4 == 0 ? 3 : 1)];
            auto st = b.state(did).value();
            auto held = st.held();
            switch (rng() % 10) {
                case 0: case 1: case 2: case 3:  // follow (first or another record)
                    b.put_follow(did, rkey, kSrc);
                    if (held.empty()) label(b, did, kValues[rng() % 3], false);
                    break;
                case 4: case 5:  // unfollow one record; negate with the last one
                    b.delete_follow(did, rkey);
                    if (b.follow_count(did).value() == 0)
                        for (auto* h : held) label(b, did, h->val.c_str(), true);
                    break;
                case 6:  // re-roll
                    if (!held.empty()) {
                        label(b, did, held[0]->val.c_str(), true);
                        label(b, did, kValues[rng() % 3], false);
                    }
                    break;
                case 7:  // account status
                    b.set_account(did, account_status(rng() % 4));
                    break;
                case 8:  // a label on a record
                    label(b, fixture_record_uri(int(rng() % 10)), kValues[rng() % 3], rng() % 3 == 0);
                    break;
                default:  // a follow of someone else's record key: unknown delete, no-op
                    b.delete_follow(did, "3lzzzzzzzzz2z");
                    break;
            }
        }
        b.set_cursor("jetstream", 1764400000000000ull + std::uint64_t(batch));
        auto r = store.commit(std::move(b));
        if (!r) {
            std::fprintf(stderr, "commit: %s\n", r.error().message.c_str());
            return 1;
        }
    }
    std::ofstream(dir / "expected.txt") << dump_store(store);
    std::printf("wrote %s (last seq %llu)\n", (dir / "data").c_str(),
                (unsigned long long)store.last_seq());
    return 0;
}
