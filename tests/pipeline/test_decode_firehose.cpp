// Firehose decoding, and the real PDS capture (tests/fixtures/pds-firehose) run frame by frame
// through decode -> filter -> decide -> commit against a real store: the final labels must
// equal ground-truth.json, and replaying the whole capture must add nothing.
#include <catch2/catch.hpp>

#include <simdjson.h>

#include <random>
#include <set>

#include "pipeline/decode.hpp"
#include "pipeline/filter.hpp"
#include "pipeline/writer.hpp"
#include "src/atproto/cbor_writer.hpp"
#include "tests/pipeline/support.hpp"

using namespace labeler;
using namespace labeler::pipeline;
using namespace labeler::pipeline::test;

namespace {

const std::filesystem::path fixture_dir =
    std::filesystem::path(LABELER_FIXTURE_DIR) / "pds-firehose";

std::vector<std::string> load_frames() {
    auto bytes = read_file(fixture_dir / "firehose.bin");
    std::vector<std::string> frames;
    std::size_t off = 0;
    while (off + 4 <= bytes.size()) {
        auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + off);
        std::size_t n = (std::size_t(p[0]) << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
        off += 4;
        REQUIRE(off + n <= bytes.size());
        frames.emplace_back(bytes.substr(off, n));
        off += n;
    }
    return frames;
}

struct ground_truth {
    std::string labeler;
    std::vector<std::string> followers, unfollowed, all;
};

ground_truth load_truth() {
    simdjson::dom::parser parser;
    auto doc = parser.load((fixture_dir / "ground-truth.json").string());
    ground_truth t;
    t.labeler = std::string(std::string_view(doc["labeler"]["did"]));
    for (auto d : doc["finalFollowerDids"].get_array()) t.followers.emplace_back(std::string_view(d));
    for (auto d : doc["unfollowedDids"].get_array()) t.unfollowed.emplace_back(std::string_view(d));
    for (auto [k, v] : doc["accounts"].get_object()) t.all.emplace_back(std::string_view(v));
    return t;
}

std::string error_frame(std::string_view name, std::string_view message) {
    std::string out;
    atproto::cbor::writer w(out);
    w.map(1);
    w.text("op");
    w.int64(-1);
    w.map(2);
    w.text("error");
    w.text(name);
    w.text("message");
    w.text(message);
    return out;
}

}  // namespace

TEST_CASE("firehose: the capture decodes frame by frame like the independent decoder") {
    auto frames = load_frames();
    REQUIRE(frames.size() == 134);
    firehose_decoder dec;
    std::vector<event> out;
    std::map<message_kind, int> kinds;
    int creates = 0, deletes = 0, creates_of_labeler = 0;
    auto truth = load_truth();
    std::uint64_t last_seq = 0;
    for (auto& f : frames) {
        out.clear();
        auto r = dec(f, out);
        REQUIRE(r.has_value());
        CHECK(r->has_cursor);
        CHECK(r->cursor == last_seq + 1);
        CHECK(r->time_us > 0);
        last_seq = r->cursor;
        kinds[r->kind]++;
        for (auto& e : out) {
            if (e.kind == event_kind::follow_create) {
                ++creates;
                if (e.subject == truth.labeler) ++creates_of_labeler;
            }
            if (e.kind == event_kind::follow_delete) ++deletes;
        }
        auto p = dec.peek(f);
        REQUIRE(p.has_value());
        CHECK(p->cursor == r->cursor);
    }
    // decoded.json: 23 #identity, 23 #account, 65 #commit, 23 #sync; follows: 25 creates
    // (24 of the labeler, 1 of bob), 8 deletes.
    CHECK(kinds[message_kind::identity] == 23);
    CHECK(kinds[message_kind::account] == 23);
    CHECK(kinds[message_kind::sync] == 23);
    CHECK(kinds[message_kind::follow] + kinds[message_kind::commit_other] == 65);
    CHECK(creates == 25);
    CHECK(creates_of_labeler == 24);
    CHECK(deletes == 8);
}

TEST_CASE("firehose: bob's replace commit expands to [delete old, create new] in op order") {
    auto frames = load_frames();
    firehose_decoder dec;
    std::vector<event> out;
    REQUIRE(dec(frames[105], out).has_value());  // seq 106
    REQUIRE(out.size() == 2);
    CHECK(out[0].kind == event_kind::follow_delete);
    CHECK(out[0].rkey == "3n3gzsklktc2i");
    CHECK(out[1].kind == event_kind::follow_create);
    CHECK(out[1].rkey == "3n3gzskmpws2i");
    CHECK(out[1].did == "did:plc:iheztoyxurvusir7pps7v7xp");
    CHECK(out[1].subject == "did:plc:3acistl3y3stdfc5zjdwhqff");
}

TEST_CASE("firehose: corrupt frames, bad blocks and error frames are errors, not throws") {
    auto frames = load_frames();
    firehose_decoder dec(1 << 20);
    std::vector<event> out;
    // Truncated frame.
    auto cut = frames[103].substr(0, frames[103].size() / 2);
    auto r = dec(cut, out);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == int(decode_errc::malformed));
    // Flip a byte inside the follow record block: the CID check fails.
    auto bad = frames[103];  // seq 104: alice follows the labeler
    auto pos = bad.find("app.bsky.graph.follow", bad.find("blocks"));
    REQUIRE(pos != std::string::npos);
    bad[pos + 4] = 'X';
    r = dec(bad, out);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == int(decode_errc::car));
    CHECK(out.empty());
    // An error frame names the error.
    r = dec(error_frame("FutureCursor", "cursor in the future"), out);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == int(decode_errc::error_frame));
    CHECK(r.error().message.find("FutureCursor") != std::string::npos);
    // Oversize.
    firehose_decoder small(100);
    r = small(frames[103], out);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == int(decode_errc::oversize));
    // Garbage.
    CHECK_FALSE(dec("\xff\xff\xff", out).has_value());
    CHECK_FALSE(dec("", out).has_value());
    CHECK(out.empty());
}

TEST_CASE("firehose: the whole capture through the pipeline stages yields ground truth") {
    auto frames = load_frames();
    auto truth = load_truth();
    temp_dir dir;
    auto store = open_store(dir.path, truth.labeler);
    collecting_sink sink;
    auto rng = std::make_shared<std::mt19937_64>(1);
    writer w(*store, sink, test_key(), truth.labeler, "firehose",
             decider({{"daikichi", 1}, {"kichi", 2}, {"kyo", 1}}, [rng] { return (*rng)(); }));
    firehose_decoder dec;
    event_filter keep(truth.labeler);
    std::vector<event> scratch;

    auto run_all = [&](std::size_t batch) {
        std::vector<frame_item> pending;
        for (auto& f : frames) {
            scratch.clear();
            auto r = dec(f, scratch);
            REQUIRE(r.has_value());
            frame_item item;
            item.cursor = r->cursor;
            item.has_cursor = r->has_cursor;
            item.time_us = r->time_us;
            for (auto& e : scratch)
                if (keep(e)) item.events.push_back(std::move(e));
            pending.push_back(std::move(item));
            if (pending.size() == batch) {
                REQUIRE(w.process(pending, std::chrono::system_clock::now()).has_value());
                pending.clear();
            }
        }
        if (!pending.empty())
            REQUIRE(w.process(pending, std::chrono::system_clock::now()).has_value());
        w.finish();
    };
    run_all(1);  // every frame its own batch

    for (auto& d : truth.followers) CHECK(held(*store, d).size() == 1);
    for (auto& d : truth.unfollowed) CHECK(held(*store, d).empty());
    std::set<std::string> holders;
    for (auto& d : truth.all)
        if (!held(*store, d).empty()) holders.insert(d);
    CHECK(holders == std::set<std::string>(truth.followers.begin(), truth.followers.end()));
    // 22 distinct followers labelled once; bob's replace and dup changed nothing; 6 negations.
    auto log = read_all(*store);
    CHECK(log.size() == 22 + 6);
    CHECK(store->cursor("firehose") == std::optional<std::uint64_t>(134));
    CHECK(sink.size() == log.size());

    // Replay everything (in bigger batches): nothing new.
    auto seq = store->last_seq();
    run_all(50);
    CHECK(store->last_seq() == seq);
    for (auto& d : truth.followers) CHECK(held(*store, d).size() == 1);
}
