// E2E: live serving on the real binary fed by a real pipeline (file source, Jetstream format,
// replayed at the recorded pace): subscribers that connect while labels are being committed
// get a gap-free, duplicate-free stream across the replay->live switch, and a slow consumer is
// disconnected with ConsumerTooSlow without disturbing the others.
#include <catch2/catch.hpp>

#include <fstream>

#include "tests/e2e/harness.hpp"
#include "tests/e2e/ingest_support.hpp"

using namespace labeler;
using namespace labeler::e2e;

namespace {

constexpr const char* sl = "/xrpc/com.atproto.label.subscribeLabels";

std::string follower_did(std::size_t i) {
    static const char* alphabet = "abcdefghijklmnopqrstuvwxyz234567";
    std::string id(24, 'a');
    for (int k = 23; k >= 0 && i; --k, i /= 32) id[std::size_t(k)] = alphabet[i % 32];
    return "did:plc:" + id;
}

// `n` follow creates of `labeler`, starting `delay_us` after the first (marker) event and
// spaced `step_us` apart on the recorded clock.
void write_follows(const std::filesystem::path& file, const std::string& labeler, std::size_t n,
                   std::uint64_t delay_us, std::uint64_t step_us) {
    std::ofstream f(file);
    std::uint64_t t = 1764403200000000;
    f << R"({"did":"did:plc:aaaaaaaaaaaaaaaaaaaaaaab","time_us":)" << t
      << R"(,"kind":"identity","identity":{"did":"did:plc:aaaaaaaaaaaaaaaaaaaaaaab","handle":"marker.test","seq":1,"time":"2025-11-29T08:00:00.000Z"}})"
      << "\n";
    t += delay_us;
    for (std::size_t i = 0; i < n; ++i, t += step_us) {
        f << R"({"did":")" << follower_did(1000 + i) << R"(","time_us":)" << t
          << R"(,"kind":"commit","commit":{"rev":"3l3qo2vutsw2b","operation":"create","collection":"app.bsky.graph.follow","rkey":"3l3qo2vuowo2b","record":{"$type":"app.bsky.graph.follow","createdAt":"2024-09-09T19:46:02.102Z","subject":")"
          << labeler
          << R"("},"cid":"bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi"}})"
          << "\n";
    }
}

struct live_served {
    temp_dir dir;
    profile_options opts;
    std::string did_key;
    std::unique_ptr<labeler_process> proc;

    live_served(std::size_t n, std::uint64_t delay_us, std::uint64_t step_us,
                std::string extra_server = {}, std::string extra_toml = {}) {
        did_key = write_key(dir.path());
        opts.source_kind = "file";
        opts.file = dir.path() / "follows.jsonl";
        opts.format = "jetstream";
        opts.extra_server_toml = std::move(extra_server);
        opts.extra_toml = std::move(extra_toml);
        write_follows(opts.file, opts.did, n, delay_us, step_us);
        write_profile(dir.path(), opts);
        // replay at the recorded pace so that subscribers can connect before the burst
        std::ofstream(dir.path() / "profile.toml", std::ios::app) << "\n";
        auto text = [&] {
            std::ifstream f(dir.path() / "profile.toml");
            return std::string((std::istreambuf_iterator<char>(f)), {});
        }();
        auto pos = text.find("format = \"jetstream\"\n");
        text.insert(pos + std::string("format = \"jetstream\"\n").size(), "pace = \"recorded\"\n");
        std::ofstream(dir.path() / "profile.toml", std::ios::trunc) << text;
        proc = labeler_process::start(dir.path() / "profile.toml");
    }
    std::uint16_t port() const { return proc->port(); }
};

}  // namespace

TEST_CASE("labels committed by the pipeline stream live, and the replay->live switch has no gap or dup") {
    constexpr std::size_t n = 2000;
    live_served s(n, 1'500'000, 500);  // burst starts 1.5 s in and lasts ~1 s
    ws_client live, from_zero;
    REQUIRE(live.connect(s.port(), sl) == 101);
    // this one starts replaying while the pipeline is committing
    std::optional<ws_client> mid;
    for (std::uint64_t want = 1; want <= n; ++want) {
        auto bytes = live.read_frame(20s);
        REQUIRE(bytes);
        auto f = decode_frame(*bytes);
        REQUIRE(f.has_value());
        REQUIRE(f->seq == want);
        REQUIRE(f->labels.size() == 1);
        REQUIRE(verify_label(f->labels[0], s.did_key));
        if (want == 200) {
            mid.emplace();
            REQUIRE(mid->connect(s.port(), std::string(sl) + "?cursor=100") == 101);
        }
    }
    REQUIRE(mid);
    for (std::uint64_t want = 101; want <= n; ++want) {
        auto bytes = mid->read_frame(20s);
        REQUIRE(bytes);
        auto f = decode_frame(*bytes);
        REQUIRE(f.has_value());
        REQUIRE(f->seq == want);
    }
    CHECK_FALSE(mid->read_frame(300ms));
    CHECK_FALSE(live.read_frame(10ms));
    CHECK(s.proc->terminate() == 0);
}

TEST_CASE("a slow consumer of the live stream is dropped, a fast one gets every label") {
    // Small commit batches keep every publish far below the queue bound, so only a client
    // that stops reading can overflow it.
    constexpr std::size_t n = 12000;
    live_served s(n, 1'500'000, 30, "subscriber_queue_frames = 500",
                  "[pipeline]\nbatch_max = 20\n");
    ws_client slow, fast;
    slow.set_receive_buffer(2048);
    REQUIRE(slow.connect(s.port(), sl) == 101);
    REQUIRE(fast.connect(s.port(), sl) == 101);
    // The fast client reads as frames come; labels arrive in commit batches, so keep its
    // queue (500) from overflowing by reading continuously.
    for (std::uint64_t want = 1; want <= n; ++want) {
        auto bytes = fast.read_frame(20s);
        REQUIRE(bytes);
        auto f = decode_frame(*bytes);
        REQUIRE(f.has_value());
        REQUIRE(f->seq == want);
    }
    std::optional<decoded_frame> last;
    std::size_t got = 0;
    while (auto bytes = slow.read_frame(10s)) {
        auto f = decode_frame(*bytes);
        REQUIRE(f.has_value());
        last = *f;
        ++got;
    }
    CHECK(slow.closed());
    CHECK(got < n);
    REQUIRE(last);
    CHECK(last->error == "ConsumerTooSlow");
    CHECK(slow.close_code() == 1008);
    auto m = http_get(s.port(), "/metrics");
    CHECK(m.body.find("labeler_server_slow_consumer_drops_total 1") != std::string::npos);
    CHECK(s.proc->terminate() == 0);
}

TEST_CASE("a repeated queryLabels is answered from the response cache, never with stale labels") {
    constexpr std::size_t n = 300;
    live_served s(n, 1'500'000, 3'000);  // the follows arrive from 1.5 s on, over ~0.9 s
    const std::string all = "/xrpc/com.atproto.label.queryLabels?uriPatterns=*&limit=250";
    const std::string mine = "/xrpc/com.atproto.label.queryLabels?uriPatterns=" + follower_did(1000);
    auto hits = [&] { return ingest::metric(s.port(), "labeler_server_query_cache_total", "result=\"hit\""); };

    // Before the first label: the same empty answer twice, the second from the cache.
    auto first = http_get(s.port(), mine);
    REQUIRE(first.status == 200);
    CHECK(parse_query_page(first.body).labels.empty());
    const double h0 = hits();
    auto again = http_get(s.port(), mine);
    CHECK(again.body == first.body);
    CHECK(hits() == h0 + 1);

    // While labels are committed, every answer holds at least the labels already streamed.
    ws_client live;
    REQUIRE(live.connect(s.port(), sl) == 101);
    std::size_t seen = 0;
    while (seen < n) {
        auto bytes = live.read_frame(20s);
        REQUIRE(bytes);
        REQUIRE(decode_frame(*bytes).has_value());
        ++seen;
        if (seen % 25 == 0 || seen == 1) {
            auto r = http_get(s.port(), all);
            REQUIRE(r.status == 200);
            auto page = parse_query_page(r.body);
            REQUIRE(page.labels.size() >= std::min<std::size_t>(seen, 250));
            auto r2 = http_get(s.port(), all);  // a hit or a newer answer, never an older one
            REQUIRE(parse_query_page(r2.body).labels.size() >= page.labels.size());
        }
    }
    // Settled: the follower's own label is served (the empty answer above is gone) and then
    // served again from the cache.
    auto now = http_get(s.port(), mine);
    REQUIRE(now.status == 200);
    auto page = parse_query_page(now.body);
    REQUIRE(page.labels.size() == 1);
    CHECK(page.labels[0].uri == follower_did(1000));
    const double h1 = hits();
    CHECK(http_get(s.port(), mine).body == now.body);
    CHECK(hits() == h1 + 1);
    CHECK(s.proc->terminate() == 0);
}
