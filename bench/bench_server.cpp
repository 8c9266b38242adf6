// bench_server: serving figures on this machine, printed as lines of text.
//
//   queryLabels   wrk (Debian) against an in-process server: exact subject and `*` with
//                 limit=50; requests/s, p50, p99. First one URL repeated (served from the
//                 response cache), then "exact~"/"star~" with a different subject or cursor
//                 per request (a wrk script), which all go to the store
//   replay        subscribeLabels from cursor 0 over --labels labels (default 1,000,000);
//                 labels/s as received by one WebSocket client
//   fan-out       a --burst label burst (default 10,000) to --subscribers clients (default
//                 1,000) connected live; delivery latency p50/p99 (commit+publish -> received)
//                 and slow-consumer drops
//
// The store is seeded in a mkdtemp folder; labels after the first 10,000 reuse one signature
// (signing a million labels would dominate the setup and is not what is measured).
// Usage: bench_server [--labels N] [--subscribers N] [--burst N] [--wrk-seconds N]
//                     [--connections N] [--threads N] [--skip-query] [--skip-replay] [--skip-fanout]
//                     [--skip-wrk]  (query CPU figures only)
#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <fmt/format.h>
#include <prometheus/registry.h>
#include <stdlib.h>
#include <unistd.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "src/atproto/crypto.hpp"
#include "src/common/thread_name.hpp"
#include "src/atproto/label.hpp"
#include "src/server/query.hpp"
#include "src/server/server.hpp"
#include "storage/label_store.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
using namespace labeler;

namespace {

struct options {
    std::size_t labels = 1'000'000;
    std::size_t subscribers = 1000;
    std::size_t burst = 10'000;
    int wrk_seconds = 5;
    int connections = 64;
    unsigned threads = 1;
    bool query = true, replay = true, fanout = true, wrk = true;
};

std::string subject(std::size_t i) { return fmt::format("did:plc:subj{:020}", i); }

double secs(clock_type::duration d) { return std::chrono::duration<double>(d).count(); }

// Commits labels [first, first+n) in batches of 1000 (as the pipeline does) and returns them.
std::vector<storage::shared_entry> commit_labels(storage::label_store& store,
                                                 const atproto::private_key& key,
                                                 const std::string& did, std::size_t first,
                                                 std::size_t n, std::size_t batch = 1000) {
    std::vector<storage::shared_entry> all;
    std::optional<std::array<std::uint8_t, 64>> shared_sig;
    for (std::size_t i = first; i < first + n;) {
        auto wb = store.begin();
        std::size_t end = std::min(first + n, i + batch);
        for (; i < end; ++i) {
            atproto::label l;
            l.src = did;
            l.uri = subject(i);
            l.val = i % 3 == 0 ? "daikichi" : i % 3 == 1 ? "kichi" : "kyo";
            l.cts = fmt::format("2026-01-{:02}T{:02}:{:02}:{:02}.{:03}Z", 1 + (i / 86400000) % 28,
                                (i / 3600000) % 24, (i / 60000) % 60, (i / 1000) % 60, i % 1000);
            if (i < 10'000 || !shared_sig) {
                l.sig = key.sign(atproto::signing_bytes(l));
                shared_sig = l.sig;
            } else {
                l.sig = shared_sig;
            }
            wb.append({l.src, l.uri, l.val, false, l.cts, std::nullopt}, atproto::encode_cbor(l));
        }
        auto c = store.commit(std::move(wb));
        if (!c) {
            std::fprintf(stderr, "commit failed: %s\n", c.error().message.c_str());
            std::exit(1);
        }
        all.insert(all.end(), c->begin(), c->end());
    }
    return all;
}

// `lua`, when given, is a wrk script (its own request()) that varies the target per request.
void run_wrk(const options& o, std::uint16_t port, const std::string& name,
             const std::string& target, const std::string& lua = {}) {
    std::string script;
    if (!lua.empty()) {
        char tmpl[] = "/tmp/bench-server-wrk-XXXXXX";
        int fd = ::mkstemp(tmpl);
        if (fd < 0) return;
        ::close(fd);
        script = tmpl;
        std::FILE* f = std::fopen(tmpl, "w");
        std::fputs(lua.c_str(), f);
        std::fclose(f);
    }
    std::string cmd = fmt::format("wrk -t1 -c{} -d{}s --latency {} 'http://127.0.0.1:{}{}' 2>&1",
                                  o.connections, o.wrk_seconds,
                                  script.empty() ? "" : "-s " + script, port, target);
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return;
    std::string out;
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    ::pclose(p);
    if (!script.empty()) std::remove(script.c_str());
    // Percentiles are searched after "Latency Distribution": "50%" also matches "75.50%" in
    // the thread statistics above it.
    auto field = [&](const std::string& key) {
        auto from = key.ends_with('%') ? out.find("Latency Distribution") : 0;
        auto pos = out.find(key, from == std::string::npos ? 0 : from);
        if (pos == std::string::npos) return std::string("?");
        pos += key.size();
        while (pos < out.size() && out[pos] == ' ') ++pos;
        return out.substr(pos, out.find_first_of(" \n", pos) - pos);
    };
    auto non2xx = out.find("Non-2xx") != std::string::npos ? " NON-2XX RESPONSES!" : "";
    std::printf("queryLabels %-8s req/s %s  p50 %s  p99 %s  (wrk -t1 -c%d -d%ds)%s\n",
                name.c_str(), field("Requests/sec:").c_str(), field("50%").c_str(),
                field("99%").c_str(), o.connections, o.wrk_seconds, non2xx);
    std::fflush(stdout);
}

// The server-side work of one queryLabels request minus HTTP: parse the query string, query
// the store, render the JSON. Thread CPU time per request, so the figure does not depend on
// what else the machine runs.
void bench_query_cpu(storage::label_store& store, const std::string& name,
                     const std::string& query_string) {
    auto cpu_now = [] {
        timespec ts{};
        ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
    };
    std::size_t bytes = 0;
    server::label_json_cache* cache = nullptr;
    auto once = [&] {
        auto q = server::parse_query_labels(query_string);
        server::query_labels_renderer body(q->limit, cache);
        if (!store.query_each(*q, body)) std::abort();
        bytes += body.finish().size();
    };
    for (int i = 0; i < 1000; ++i) once();  // warm caches
    const int n = 20'000;
    double c0 = cpu_now();
    for (int i = 0; i < n; ++i) once();
    double per = (cpu_now() - c0) / n;
    auto q = server::parse_query_labels(query_string);
    c0 = cpu_now();
    struct count : storage::query_visitor {
        std::size_t n = 0;
        void begin(std::optional<std::uint64_t>) override {}
        void label(std::uint64_t, std::string_view) override { ++n; }
    } counter;
    for (int i = 0; i < n; ++i) (void)store.query_each(*q, counter);
    bytes += counter.n;
    double store_part = (cpu_now() - c0) / n;
    // The same with the server's rendered-label cache, warm (the results repeat).
    server::label_json_cache warm(65536);
    cache = &warm;
    for (int i = 0; i < 1000; ++i) once();
    c0 = cpu_now();
    for (int i = 0; i < n; ++i) once();
    double cached = (cpu_now() - c0) / n;
    std::printf("query CPU   %-8s %.1f us per request (parse + store + render, one thread; "
                "store %.1f us) = %.0f req per CPU-s; %.1f us with the label JSON cache warm\n",
                name.c_str(), per * 1e6, store_part * 1e6, 1.0 / per, cached * 1e6);
    std::fflush(stdout);
}

void bench_replay(std::uint16_t port, std::size_t expected) {
    asio::io_context ioc;
    websocket::stream<beast::tcp_stream> ws(ioc);
    beast::get_lowest_layer(ws).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    auto t0 = clock_type::now();
    ws.handshake("127.0.0.1", "/xrpc/com.atproto.label.subscribeLabels?cursor=0");
    beast::flat_buffer buf;
    std::size_t n = 0, bytes = 0;
    while (n < expected) {
        buf.clear();
        bytes += ws.read(buf);
        ++n;
    }
    double s = secs(clock_type::now() - t0);
    std::printf("replay      %zu labels in %.2f s = %.0f labels/s (%.1f MB/s)\n", n, s, n / s,
                bytes / s / 1e6);
    std::fflush(stdout);
    ws.close(websocket::close_code::normal);
}

// Fan-out clients: a minimal RFC 6455 reader (the upgrade written by hand, then server frames
// parsed in place from 256 KiB reads), so that one client thread can take 10 million frames
// and the figure measures the server, not a client library's per-message overhead. Each
// client records (receive time - publish time) per frame.
struct fanout_client {
    tcp::socket sock;
    std::vector<char> buf = std::vector<char>(256 * 1024);
    std::size_t have = 0;
    std::size_t received = 0;
    bool closed = false;
    explicit fanout_client(asio::io_context& ioc) : sock(ioc) {}

    void upgrade(std::uint16_t port) {
        sock.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
        std::string req =
            "GET /xrpc/com.atproto.label.subscribeLabels HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
        asio::write(sock, asio::buffer(req));
        std::string head;
        char c;
        while (head.size() < 4 || head.compare(head.size() - 4, 4, "\r\n\r\n") != 0) {
            asio::read(sock, asio::buffer(&c, 1));
            head.push_back(c);
        }
        if (head.compare(0, 12, "HTTP/1.1 101") != 0) {
            std::fprintf(stderr, "upgrade refused: %s\n", head.c_str());
            std::exit(1);
        }
    }
};

void bench_fanout(const options& o, std::uint16_t port, storage::label_store& store,
                  server::server& srv, const atproto::private_key& key, const std::string& did,
                  std::size_t first_index, prometheus::Registry& registry) {
    asio::io_context ioc;
    std::vector<std::unique_ptr<fanout_client>> clients;
    for (std::size_t i = 0; i < o.subscribers; ++i) {
        auto c = std::make_unique<fanout_client>(ioc);
        c->upgrade(port);
        clients.push_back(std::move(c));
    }
    while (srv.subscribers() < o.subscribers) std::this_thread::sleep_for(std::chrono::milliseconds(10));

    const std::uint64_t base = store.last_seq();
    std::vector<std::atomic<std::int64_t>> published(o.burst);
    std::vector<std::uint64_t> hist(200'000, 0);  // 0.1 ms buckets up to 20 s
    std::uint64_t over = 0, samples = 0;
    std::size_t done = 0;
    auto start = clock_type::now();

    // Parses every whole frame in c.buf; returns false when the client is finished.
    auto parse = [&](fanout_client& c) {
        auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now() - start)
                       .count();
        const auto* data = reinterpret_cast<const std::uint8_t*>(c.buf.data());
        std::size_t pos = 0;
        while (c.have - pos >= 2) {
            std::size_t len = data[pos + 1] & 0x7F, hdr = 2;
            if (len == 126) {
                if (c.have - pos < 4) break;
                len = (std::size_t(data[pos + 2]) << 8) | data[pos + 3];
                hdr = 4;
            } else if (len == 127) {
                std::fprintf(stderr, "unexpected 64-bit frame\n");
                std::exit(1);
            }
            if (c.have - pos < hdr + len) break;
            const std::uint8_t* msg = data + pos + hdr;
            pos += hdr + len;
            if ((data[pos - hdr - len] & 0x0F) != 0x2) {  // close or other: stop
                c.closed = true;
                return false;
            }
            // seq sits at a fixed offset: header (15) + a2 63 'seq' + uint head
            std::uint64_t seq = 0;
            if (len > 21) {
                std::uint8_t h = msg[20];
                if (h < 0x18) seq = h;
                else {
                    int nb = h == 0x18 ? 1 : h == 0x19 ? 2 : h == 0x1a ? 4 : 8;
                    for (int i = 0; i < nb; ++i) seq = (seq << 8) | msg[21 + i];
                }
            }
            if (seq > base && seq - base <= o.burst) {
                auto sent = published[seq - base - 1].load(std::memory_order_acquire);
                auto us = (now - sent) / 100'000;  // 0.1 ms units
                if (us >= std::int64_t(hist.size())) ++over;
                else ++hist[std::size_t(std::max<std::int64_t>(0, us))];
                ++samples;
            }
            if (++c.received >= o.burst) return false;
        }
        std::memmove(c.buf.data(), c.buf.data() + pos, c.have - pos);
        c.have -= pos;
        return true;
    };
    std::function<void(fanout_client&)> read_one = [&](fanout_client& c) {
        c.sock.async_read_some(
            asio::buffer(c.buf.data() + c.have, c.buf.size() - c.have),
            [&, cp = &c](beast::error_code ec, std::size_t n) {
                if (ec) {
                    cp->closed = true;
                    ++done;
                    return;
                }
                cp->have += n;
                if (!parse(*cp)) {
                    ++done;
                    return;
                }
                read_one(*cp);
            });
    };
    for (auto& c : clients) read_one(*c);
    asio::steady_timer deadline(ioc, std::chrono::seconds(300));  // a lost frame must not hang
    deadline.async_wait([&](beast::error_code ec) {
        if (ec) return;
        for (auto& c : clients) {
            beast::error_code ignored;
            c->sock.close(ignored);
        }
    });
    std::thread reader([&] {
        name_this_thread("fanout-clients");
        while (done < clients.size() && ioc.run_one()) {}
        deadline.cancel();
    });

    // The burst: commit in batches of 1000 and publish right after each commit (pipeline-like).
    auto t0 = clock_type::now();
    for (std::size_t i = 0; i < o.burst;) {
        std::size_t n = std::min<std::size_t>(1000, o.burst - i);
        auto wb_entries = commit_labels(store, key, did, first_index + i, n, n);
        auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now() - start).count();
        for (auto& e : wb_entries) published[e->seq - base - 1].store(now, std::memory_order_release);
        srv.publish(wb_entries);
        i += n;
    }
    double committed = secs(clock_type::now() - t0);
    reader.join();
    double total = secs(clock_type::now() - t0);

    auto pct = [&](double q) {
        std::uint64_t target = std::uint64_t(q * double(samples)), acc = 0;
        for (std::size_t i = 0; i < hist.size(); ++i) {
            acc += hist[i];
            if (acc > target) return double(i) / 10.0;
        }
        return 20000.0;
    };
    std::size_t dropped = 0;
    for (auto& c : clients) dropped += c->received < o.burst;
    double drops_metric = 0;
    for (auto& fam : registry.Collect())
        if (fam.name == "labeler_server_slow_consumer_drops_total") drops_metric = fam.metric[0].counter.value;
    std::printf("fan-out     %zu labels x %zu subscribers: %llu deliveries in %.2f s "
                "(the burst committed and published in %.0f ms), "
                "p50 %.1f ms, p99 %.1f ms, incomplete %zu, slow-consumer drops %.0f\n",
                o.burst, o.subscribers, (unsigned long long)samples, total, committed * 1000,
                pct(0.5), pct(0.99), dropped, drops_metric);
    std::fflush(stdout);
    for (auto& c : clients) {
        beast::error_code ec;
        c->sock.close(ec);
    }
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string("0"); };
        if (a == "--labels") o.labels = std::stoul(next());
        else if (a == "--subscribers") o.subscribers = std::stoul(next());
        else if (a == "--burst") o.burst = std::stoul(next());
        else if (a == "--wrk-seconds") o.wrk_seconds = std::stoi(next());
        else if (a == "--connections") o.connections = std::stoi(next());
        else if (a == "--threads") o.threads = unsigned(std::stoul(next()));
        else if (a == "--skip-query") o.query = false;
        else if (a == "--skip-replay") o.replay = false;
        else if (a == "--skip-fanout") o.fanout = false;
        else if (a == "--skip-wrk") o.wrk = false;
        else {
            std::fprintf(stderr, "unknown option %s\n", a.c_str());
            return 2;
        }
    }
    char tmpl[] = "/tmp/bench-server-XXXXXX";
    if (!::mkdtemp(tmpl)) return 1;
    std::filesystem::path dir = tmpl;

    auto key = atproto::private_key::generate();
    config::profile profile;
    profile.environment = "bench";
    profile.labeler_did = "did:plc:benchlabelerxxxxxxxxxxxx";
    profile.server.host = "127.0.0.1";
    profile.server.port = 0;
    profile.server.threads = o.threads;
    prometheus::Registry registry;
    labeler::health health;
    storage::store_options so;
    so.path = dir / "data";
    so.expected = {profile.environment, profile.labeler_did, key.did_key()};
    so.sync = storage::store_options::sync_mode::interval;
    auto opened = storage::label_store::open(so, &registry);
    if (!opened) {
        std::fprintf(stderr, "%s\n", opened.error().message.c_str());
        return 1;
    }
    auto store = std::move(*opened);
    health.set_store_open(true);

    auto t0 = clock_type::now();
    commit_labels(*store, key, profile.labeler_did, 0, o.labels, 10'000);
    std::printf("setup       %zu labels committed in %.1f s\n", o.labels, secs(clock_type::now() - t0));
    // Measure the steady state, not the compaction storm that the bulk load just started.
    t0 = clock_type::now();
    bool settled = store->wait_for_compactions(std::chrono::minutes(5));
    std::printf("setup       background compactions %s after %.1f s\n",
                settled ? "finished" : "STILL RUNNING", secs(clock_type::now() - t0));
    std::fflush(stdout);

    asio::io_context ioc(int(o.threads));
    server::server srv(ioc, {profile, *store, registry, health});
    auto ep = srv.listen();
    if (!ep) return 1;
    std::vector<std::thread> io;
    for (unsigned i = 0; i < o.threads; ++i)
        io.emplace_back([&] {
            name_this_thread("io");
            ioc.run();
        });

    if (o.query) {
        bench_query_cpu(*store, "exact", "uriPatterns=" + subject(o.labels / 2));
        bench_query_cpu(*store, "star", "uriPatterns=*&limit=50");
    }
    if (o.query && o.wrk) {
        // The same URL again and again: answered from the response cache (server.query_cache).
        run_wrk(o, ep->port, "exact",
                "/xrpc/com.atproto.label.queryLabels?uriPatterns=" + subject(o.labels / 2));
        run_wrk(o, ep->port, "star",
                "/xrpc/com.atproto.label.queryLabels?uriPatterns=*&limit=50");
        // A different query per request: every one goes to the store.
        const std::string pick = fmt::format(
            "math.randomseed(7)\nlocal n = {}\n"
            "local function subj(i) return string.format('did:plc:subj%020d', i) end\n",
            o.labels);
        run_wrk(o, ep->port, "exact~",
                "/", pick + "request = function() return wrk.format(nil, "
                            "'/xrpc/com.atproto.label.queryLabels?uriPatterns=' .. "
                            "subj(math.random(0, n - 1))) end\n");
        run_wrk(o, ep->port, "star~",
                "/", pick + "request = function() return wrk.format(nil, "
                            "'/xrpc/com.atproto.label.queryLabels?uriPatterns=*&limit=50&cursor=' .. "
                            "math.random(0, n - 100)) end\n");
    }
    if (o.replay) bench_replay(ep->port, o.labels);
    if (o.fanout)
        bench_fanout(o, ep->port, *store, srv, key, profile.labeler_did, o.labels, registry);

    srv.stop();
    for (auto& t : io) t.join();
    srv.finish();
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return 0;
}
