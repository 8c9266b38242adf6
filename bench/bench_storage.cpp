// bench_storage [labels=1000000] [batch=1000] [folder]: figures for the RocksDB label store.
//
// Applies `labels` realistic signed labels (DAG-CBOR ~190 bytes: ~125 of fields + a 64-byte
// sig) in WriteBatches of `batch`, syncing the WAL once per batch; as in the pipeline, batch
// N+1 is built while the store's commit thread writes batch N (commit_async). 80% are first labels of new
// followers (with their follow record); 20% are re-rolls of earlier subjects (a negation and a
// new value, each superseding the previous entry). Then measures queryLabels latency (exact
// subject, narrow and wide prefixes, "*" from a random cursor), log replay, on-disk size, RSS
// and the reopen time. Prints one figure per line. Uses a mkdtemp folder unless one is given.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <sys/resource.h>
#include <time.h>

#include "src/atproto/cbor_writer.hpp"
#include "src/common/log.hpp"
#include "storage/label_store.hpp"

using namespace labeler;
using namespace labeler::storage;
using clk = std::chrono::steady_clock;

namespace {

constexpr const char* kSrc = "did:plc:ar7c4by46qjdydhdevvrndac";
constexpr const char* kValues[] = {"daikichi", "kichi", "kyo"};

// CPU seconds (user + system, all threads incl. RocksDB's) used by this process so far.
double cpu_secs() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// CPU time of the calling thread in microseconds (excludes time spent waiting to run).
double thread_cpu_us() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e6 + double(ts.tv_nsec) / 1e3;
}

std::string loadavg() {
    std::ifstream in("/proc/loadavg");
    std::string a, b, c;
    in >> a >> b >> c;
    return a + " " + b + " " + c;
}

double secs_since(clk::time_point t0) {
    return std::chrono::duration<double>(clk::now() - t0).count();
}

std::string status_field(const char* name) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(name, 0) == 0) {
            auto v = line.substr(std::string(name).size());
            v.erase(0, v.find_first_not_of(" \t"));
            return v;
        }
    return "?";
}

std::uint64_t folder_bytes(const std::filesystem::path& p) {
    std::uint64_t n = 0;
    for (auto& e : std::filesystem::recursive_directory_iterator(p))
        if (e.is_regular_file()) n += e.file_size();
    return n;
}

// did:plc:<24 base32 chars> derived from i (distinct for distinct i).
std::string subject(std::uint64_t i) {
    static constexpr char kB32[] = "abcdefghijklmnopqrstuvwxyz234567";
    std::uint64_t x = i * 0x9E3779B97F4A7C15ull;  // bijective mix so keys are not in seq order
    std::string s = "did:plc:";
    for (int k = 0; k < 12; ++k) s.push_back(kB32[(x >> (5 * k)) & 31]);
    std::uint64_t y = i;
    for (int k = 0; k < 12; ++k) s.push_back(kB32[(y >> (5 * k)) & 31]);
    return s;
}

std::string cts_at(std::uint64_t n) {
    return fmt::format("2026-11-29T{:02}:{:02}:{:02}.{:03}Z", (n / 3600000) % 24,
                       (n / 60000) % 60, (n / 1000) % 60, n % 1000);
}

// Canonical DAG-CBOR of a signed label: keys cts, neg?, sig, src, uri, val, ver.
std::string encode_label(const label_fields& f, std::mt19937_64& rng) {
    std::string out;
    out.reserve(200);
    atproto::cbor::writer w(out);
    w.map(f.neg ? 7 : 6);
    w.text("cts"), w.text(f.cts);
    if (f.neg) w.text("neg"), w.boolean(true);
    std::string sig(64, '\0');
    for (auto& c : sig) c = char(rng());
    w.text("sig"), w.bytes(sig);
    w.text("src"), w.text(f.src);
    w.text("uri"), w.text(f.uri);
    w.text("val"), w.text(f.val);
    w.text("ver"), w.uint(1);
    return out;
}

struct percentiles {
    double p50, p99, max;
};
percentiles pct(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    auto at = [&](double q) { return v[std::min(v.size() - 1, std::size_t(q * double(v.size())))]; };
    return {at(0.50), at(0.99), v.back()};
}

}  // namespace

int main(int argc, char** argv) {
    const std::uint64_t total = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
    const std::uint64_t batch_size = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1000;
    std::filesystem::path dir;
    bool cleanup = false;
    if (argc > 3) {
        dir = argv[3];
    } else {
        std::string tmpl = (std::filesystem::temp_directory_path() / "bench-storage-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) return 1;
        dir = tmpl;
        cleanup = true;
    }
    set_log_level("warn");
    store_options opts;
    opts.path = dir / "data";
    opts.expected = {"bench", kSrc, "did:key:zQ3shBenchKeyFingerprint000000000000000000"};
    opts.sync = store_options::sync_mode::every_batch;

    auto opened = label_store::open(opts);
    if (!opened) {
        std::fprintf(stderr, "open: %s\n", opened.error().message.c_str());
        return 1;
    }
    auto store = std::move(*opened);
    std::mt19937_64 rng(42);

    // --- apply -------------------------------------------------------------------------
    const std::uint64_t fresh_total = total * 8 / 10;
    std::uint64_t fresh = 0, labels = 0, cbor_bytes = 0, commits = 0;
    std::vector<std::uint8_t> value_of;  // current value index per subject
    value_of.reserve(fresh_total);
    std::vector<double> commit_ms;
    std::vector<clk::time_point> handed, written;
    std::printf("machine: %u cores, load average %s\n", std::thread::hardware_concurrency(),
                loadavg().c_str());
    double commit_total_s = 0, waited_s = 0;
    auto t_apply = clk::now();
    const double cpu_apply = cpu_secs();
    while (labels < total) {
        auto b = store->begin();
        std::uint64_t in_batch = 0;
        while (in_batch < batch_size && labels < total) {
            // Interleave: 4 fresh followers, then one re-roll (2 labels), roughly 80/20.
            bool reroll = fresh > 1000 && (labels % 5 == 4 || fresh >= fresh_total);
            label_fields f;
            f.src = kSrc;
            f.cts = cts_at(labels);
            if (!reroll) {
                f.uri = subject(fresh);
                auto v = std::uint8_t(rng() % 3);
                f.val = kValues[v];
                value_of.push_back(v);
                b.put_follow(f.uri, fmt::format("3l{:011}", fresh), kSrc);
                ++fresh;
                auto cbor = encode_label(f, rng);
                cbor_bytes += cbor.size();
                if (b.append(f, std::move(cbor))) ++labels, ++in_batch;
            } else {
                std::uint64_t who = rng() % fresh;
                f.uri = subject(who);
                f.val = kValues[value_of[who]];
                f.neg = true;
                auto neg = encode_label(f, rng);
                cbor_bytes += neg.size();
                if (b.append(f, std::move(neg))) ++labels, ++in_batch;
                value_of[who] = std::uint8_t((value_of[who] + 1 + rng() % 2) % 3);
                f.val = kValues[value_of[who]];
                f.neg = false;
                auto pos = encode_label(f, rng);
                cbor_bytes += pos.size();
                if (b.append(f, std::move(pos))) ++labels, ++in_batch;
            }
        }
        b.set_cursor("jetstream", labels);
        // As the pipeline does: hand the batch to the commit thread and build the next one
        // while it is written and synced. commit_async() waits for the previous batch first.
        auto t0 = clk::now();
        handed.push_back(t0);
        auto r = store->commit_async(std::move(b), [&](result<std::vector<shared_entry>> c) {
            if (!c) {
                std::fprintf(stderr, "commit: %s\n", c.error().message.c_str());
                std::exit(1);
            }
            written.push_back(clk::now());  // commit thread; read after drain()
        });
        waited_s += secs_since(t0);
        if (!r) {
            std::fprintf(stderr, "commit: %s\n", r.error().message.c_str());
            return 1;
        }
        ++commits;
    }
    store->drain();
    // A batch's write starts when it is handed over or when the previous write ends, whichever
    // is later (commit_async waits for the previous one).
    for (std::size_t i = 0; i < written.size(); ++i) {
        auto start = i == 0 ? handed[i] : std::max(handed[i], written[i - 1]);
        commit_ms.push_back(std::chrono::duration<double, std::milli>(written[i] - start).count());
        commit_total_s += commit_ms.back() / 1000;
    }
    const double apply_s = secs_since(t_apply);
    const double apply_cpu = cpu_secs() - cpu_apply;
    auto cp = pct(commit_ms);
    std::printf("labels applied:             %llu in %llu batches of %llu (sync per batch), "
                "%llu subjects\n",
                (unsigned long long)labels, (unsigned long long)commits,
                (unsigned long long)batch_size, (unsigned long long)fresh);
    std::printf("average label CBOR:         %.0f bytes\n", double(cbor_bytes) / double(labels));
    std::printf("apply throughput:           %.0f labels/s (%.1f s)\n", double(labels) / apply_s,
                apply_s);
    std::printf("apply CPU:                  %.1f s (%.0f labels per CPU-second); commit thread "
                "writing %.1f s, batch builder waiting for it %.1f s\n",
                apply_cpu, double(labels) / apply_cpu, commit_total_s, waited_s);
    std::printf("commit (write+fsync):       p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", cp.p50,
                cp.p99, cp.max);
    std::printf("RSS after apply:            %s (peak %s)\n", status_field("VmRSS:").c_str(),
                status_field("VmHWM:").c_str());

    // --- queries -------------------------------------------------------------------------
    auto run_queries = [&](const char* name, int n, auto&& make) {
        std::vector<double> us, cpu_us;
        std::size_t found = 0;
        for (int i = 0; i < n; ++i) {
            query_request q = make(i);
            auto t0 = clk::now();
            const double c0 = thread_cpu_us();
            auto r = store->query(q);
            cpu_us.push_back(thread_cpu_us() - c0);
            us.push_back(secs_since(t0) * 1e6);
            if (!r) {
                std::fprintf(stderr, "query: %s\n", r.error().message.c_str());
                std::exit(1);
            }
            found += r->labels.size();
        }
        auto p = pct(us);
        auto c = pct(cpu_us);
        std::printf("query %-22s p50 %7.1f us, p99 %7.1f us, max %7.1f us (%.1f labels/query); "
                    "thread CPU p50 %.1f us, p99 %.1f us\n",
                    name, p.p50, p.p99, p.max, double(found) / n, c.p50, c.p99);
    };
    run_queries("exact subject:", 20000, [&](int) {
        query_request q;
        q.patterns = {subject(rng() % fresh)};
        return q;
    });
    run_queries("exact, 5 subjects:", 5000, [&](int) {
        query_request q;
        for (int k = 0; k < 5; ++k) q.patterns.push_back(subject(rng() % fresh));
        return q;
    });
    run_queries("prefix (~1 subject):", 20000, [&](int) {
        query_request q;
        q.patterns = {subject(rng() % fresh).substr(0, 20) + "*"};
        return q;
    });
    run_queries("prefix (~800 subj.):", 2000, [&](int) {
        query_request q;
        q.patterns = {subject(rng() % fresh).substr(0, 10) + "*"};
        return q;
    });
    run_queries("prefix did:plc:*:", 2000, [&](int) {
        query_request q;
        q.patterns = {"did:plc:*"};
        q.after_seq = rng() % labels;
        q.limit = 250;
        return q;
    });
    run_queries("* from cursor:", 5000, [&](int) {
        query_request q;
        q.patterns = {"*"};
        q.after_seq = rng() % labels;
        q.limit = 250;
        return q;
    });

    // --- replay ------------------------------------------------------------------------
    {
        std::uint64_t after = 0, n = 0, bytes = 0;
        auto t0 = clk::now();
        const double c0 = cpu_secs();
        for (;;) {
            auto r = store->read_log(after, 10000);
            if (!r || r->empty()) break;
            n += r->size();
            for (auto& e : *r) bytes += e.cbor.size();
            after = r->back().seq;
        }
        double s = secs_since(t0);
        std::printf("log replay (CPU):           %.0f labels per CPU-second\n",
                    double(n) / (cpu_secs() - c0));
        std::printf("log replay:                 %.0f labels/s (%llu labels, %.1f MB, %.2f s)\n",
                    double(n) / s, (unsigned long long)n, double(bytes) / 1e6, s);
    }
    auto st = store->stats();
    std::printf("stats: last_seq %llu, log entries %llu, current labels %llu, follows %llu\n",
                (unsigned long long)st.last_seq, (unsigned long long)st.log_entries,
                (unsigned long long)st.current_labels, (unsigned long long)st.follow_records);
    std::printf("on-disk size (open):        %.1f MB\n", double(folder_bytes(opts.path)) / 1e6);
    std::printf("RSS after queries/replay:   %s (peak %s)\n", status_field("VmRSS:").c_str(),
                status_field("VmHWM:").c_str());

    // --- close and reopen ------------------------------------------------------------------
    store.reset();
    std::printf("on-disk size (closed):      %.1f MB\n", double(folder_bytes(opts.path)) / 1e6);
    auto t_open = clk::now();
    auto again = label_store::open(opts);
    if (!again) {
        std::fprintf(stderr, "reopen: %s\n", again.error().message.c_str());
        return 1;
    }
    std::printf("reopen:                     %.0f ms, last_seq %llu\n", secs_since(t_open) * 1000,
                (unsigned long long)(*again)->last_seq());
    again->reset();
    if (cleanup) std::filesystem::remove_all(dir);
    return 0;
}
