// bench_decode: decode+filter throughput of the pipeline's pure stages, one core, from memory.
//
//   1. Jetstream: synthesized realistic events (posts, likes, reposts, ~5 % follows of which a
//      few target the labeler, deletes, identity/account), decoded by jetstream_decoder and
//      passed through event_filter, with the pre-filter (default) and without it (every event
//      fully parsed). Target: >= 2,000,000 events/s.
//   2. Firehose: the real PDS capture (tests/fixtures/pds-firehose/firehose.bin) decoded by
//      firehose_decoder; the frames with follow ops parse their CAR and check every block's
//      sha2-256 against its CID. Target: >= 100,000 commit frames/s.
// Rates are per CPU-second of the benchmark thread (CLOCK_THREAD_CPUTIME_ID), so other load on
// the machine does not distort them.
// Usage: bench_decode [cpu-seconds-per-run (default 2)] [path/to/firehose.bin]
#include <time.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "pipeline/decode.hpp"
#include "pipeline/filter.hpp"

using namespace labeler::pipeline;
using clk = std::chrono::steady_clock;

namespace {

const std::string labeler_did = "did:plc:randomlabelerdevelopment";

std::string rand_did(std::mt19937_64& rng) {
    static const char* b32 = "abcdefghijklmnopqrstuvwxyz234567";
    std::string s = "did:plc:";
    for (int i = 0; i < 24; ++i) s.push_back(b32[rng() % 32]);
    return s;
}
std::string tid(std::mt19937_64& rng) {
    static const char* s32 = "234567abcdefghijklmnopqrstuvwxyz";
    std::string s = "3l";
    for (int i = 0; i < 11; ++i) s.push_back(s32[rng() % 32]);
    return s;
}
std::string text(std::mt19937_64& rng, std::size_t n) {
    static const char* words[] = {"the", "labeler", "bluesky", "fortune", "today", "good",
                                  "morning", "coffee", "cat", "photo", "of", "and", "is", "🌸"};
    std::string s;
    while (s.size() < n) {
        s += words[rng() % 14];
        s += ' ';
    }
    return s;
}

// follows_only: what Jetstream sends with wantedCollections=app.bsky.graph.follow (the
// labeler's subscription): follows only, 1 in 10 of the labeler, 1 in 5 a delete.
std::vector<std::string> synth_jetstream(std::size_t n, bool follows_only = false) {
    std::mt19937_64 rng(2024);
    std::vector<std::string> out;
    std::uint64_t t = 1725911162329308;
    for (std::size_t i = 0; i < n; ++i) {
        t += 1 + rng() % 900;
        auto did = rand_did(rng);
        auto r = follows_only ? 0 : rng() % 100;
        std::string commit;
        if (r < 5) {  // follows: 1 in 10 of the labeler; 1 in 5 a delete
            if (rng() % 5 == 0)
                commit = fmt::format(R"("commit":{{"rev":"{}","operation":"delete","collection":)"
                                     R"("app.bsky.graph.follow","rkey":"{}"}})",
                                     tid(rng), tid(rng));
            else
                commit = fmt::format(
                    R"("commit":{{"rev":"{}","operation":"create","collection":"app.bsky.graph.follow",)"
                    R"("rkey":"{}","record":{{"$type":"app.bsky.graph.follow","createdAt":)"
                    R"("2024-09-09T19:46:02.102Z","subject":"{}"}},"cid":"bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi"}})",
                    tid(rng), tid(rng), rng() % 10 == 0 ? labeler_did : rand_did(rng));
        } else if (r < 35) {  // posts
            commit = fmt::format(
                R"("commit":{{"rev":"{}","operation":"create","collection":"app.bsky.feed.post",)"
                R"("rkey":"{}","record":{{"$type":"app.bsky.feed.post","createdAt":)"
                R"("2024-09-09T19:46:02.102Z","langs":["en"],"text":"{}"}},)"
                R"("cid":"bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi"}})",
                tid(rng), tid(rng), text(rng, 40 + rng() % 200));
        } else if (r < 98) {  // likes / reposts
            commit = fmt::format(
                R"("commit":{{"rev":"{}","operation":"create","collection":"app.bsky.feed.{}",)"
                R"("rkey":"{}","record":{{"$type":"app.bsky.feed.{}","createdAt":)"
                R"("2024-09-09T19:46:02.102Z","subject":{{"cid":"bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi",)"
                R"("uri":"at://{}/app.bsky.feed.post/{}"}}}},"cid":"bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi"}})",
                tid(rng), r < 80 ? "like" : "repost", tid(rng), r < 80 ? "like" : "repost",
                rand_did(rng), tid(rng));
        }
        if (!commit.empty())
            out.push_back(fmt::format(R"({{"did":"{}","time_us":{},"kind":"commit",{}}})", did, t,
                                      commit));
        else if (r == 98)
            out.push_back(fmt::format(
                R"({{"did":"{}","time_us":{},"kind":"identity","identity":{{"did":"{}",)"
                R"("handle":"someone.bsky.social","seq":1,"time":"2024-09-09T19:46:02.102Z"}}}})",
                did, t, did));
        else
            out.push_back(fmt::format(
                R"({{"did":"{}","time_us":{},"kind":"account","account":{{"active":false,)"
                R"("did":"{}","seq":1,"status":"deactivated","time":"2024-09-09T19:46:02.102Z"}}}})",
                did, t, did));
    }
    return out;
}

std::vector<std::string> load_capture(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::string> frames;
    std::size_t off = 0;
    while (off + 4 <= bytes.size()) {
        auto* b = reinterpret_cast<const unsigned char*>(bytes.data() + off);
        std::size_t n = (std::size_t(b[0]) << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
        off += 4;
        if (off + n > bytes.size()) break;
        frames.push_back(bytes.substr(off, n));
        off += n;
    }
    return frames;
}

// CPU time of this thread: on a shared machine wall time would measure the other processes.
double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

// Items per CPU-second of one thread, running passes for `seconds` of CPU time.
template <class F>
double rate(double seconds, std::size_t per_pass, F&& pass) {
    pass();  // warm up
    std::size_t done = 0;
    const double start = thread_cpu_seconds();
    while (thread_cpu_seconds() - start < seconds) {
        pass();
        done += per_pass;
    }
    return double(done) / (thread_cpu_seconds() - start);
}

}  // namespace

int main(int argc, char** argv) {
    double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
    std::filesystem::path capture =
        argc > 2 ? std::filesystem::path(argv[2])
                 : std::filesystem::path(__FILE__).parent_path() /
                       "../tests/fixtures/pds-firehose/firehose.bin";

    auto events = synth_jetstream(100000);
    std::size_t bytes = 0;
    for (auto& e : events) bytes += e.size();
    jetstream_decoder js(2u << 20, true, labeler_did);  // as the pipeline's ingest stage
    event_filter keep(labeler_did);
    std::vector<event> out;
    std::size_t kept = 0, errors = 0;
    auto js_pass = [&] {
        for (auto& e : events) {
            out.clear();
            auto r = js(e, out);
            if (!r) ++errors;
            for (auto& ev : out) kept += keep(ev);
        }
    };
    kept = 0;
    js_pass();
    std::printf("jetstream: %zu synthesized events, avg %.0f bytes, %zu kept per pass, %zu errors\n",
                events.size(), double(bytes) / double(events.size()), kept, errors);
    auto js_rate = rate(seconds, events.size(), js_pass);
    std::printf("jetstream decode+filter (pre-filter on, the default): %.0f events/s "
                "(%.0f MB/s), one core\n",
                js_rate, js_rate * double(bytes) / double(events.size()) / 1e6);
    jetstream_decoder js_full(2u << 20, false);
    auto full_rate = rate(seconds, events.size(), [&] {
        for (auto& e : events) {
            out.clear();
            if (!js_full(e, out)) ++errors;
            for (auto& ev : out) kept += keep(ev);
        }
    });
    std::printf("jetstream decode+filter (every event fully parsed by simdjson On-Demand): "
                "%.0f events/s (%.0f MB/s), one core\n",
                full_rate, full_rate * double(bytes) / double(events.size()) / 1e6);

    // Follows only, as the labeler subscribes: with the labeler DID the pre-filter classifies
    // follows of other accounts too; without it every follow is parsed.
    auto follows = synth_jetstream(100000, true);
    std::size_t fbytes = 0;
    for (auto& e : follows) fbytes += e.size();
    jetstream_decoder js_nokeep;
    for (auto* d : {&js, &js_nokeep}) {
        auto r = rate(seconds, follows.size(), [&] {
            for (auto& e : follows) {
                out.clear();
                if (!(*d)(e, out)) ++errors;
                for (auto& ev : out) kept += keep(ev);
            }
        });
        std::printf("jetstream follows only (avg %.0f bytes), pre-filter %s: %.0f events/s, one "
                    "core\n", double(fbytes) / double(follows.size()),
                    d == &js ? "with the labeler DID (the pipeline)" : "without the labeler DID", r);
    }

    auto frames = load_capture(capture);
    if (frames.empty()) {
        std::printf("firehose: capture %s not found; skipped\n", capture.string().c_str());
        return 0;
    }
    firehose_decoder fh;
    std::vector<std::string> commits, follow_commits;
    for (auto& f : frames) {
        out.clear();
        auto r = fh(f, out);
        if (!r) continue;
        if (r->kind == message_kind::follow || r->kind == message_kind::commit_other)
            commits.push_back(f);
        bool creates = false;
        for (auto& ev : out) creates |= ev.kind == event_kind::follow_create;
        if (creates) follow_commits.push_back(f);
    }
    auto fh_pass = [&](const std::vector<std::string>& set) {
        return [&] {
            for (auto& f : set) {
                out.clear();
                if (!fh(f, out)) ++errors;
                for (auto& ev : out) kept += keep(ev);
            }
        };
    };
    auto all_rate = rate(seconds, frames.size(), fh_pass(frames));
    auto commit_rate = rate(seconds, commits.size(), fh_pass(commits));
    auto follow_rate = rate(seconds, follow_commits.size(), fh_pass(follow_commits));
    std::printf("firehose: %zu frames (%zu #commit, %zu with follow creates)\n", frames.size(),
                commits.size(), follow_commits.size());
    std::printf("firehose decode+filter, all frames: %.0f frames/s\n", all_rate);
    std::printf("firehose decode+filter, #commit frames: %.0f frames/s\n", commit_rate);
    std::printf("firehose decode+filter, follow-create commits (CAR parsed, every block's CID "
                "verified): %.0f frames/s\n", follow_rate);
    return errors ? 1 : 0;
}
