// In-process server tests: a real listener on 127.0.0.1:0 and a real store in a temp folder;
// labels are committed and published by the test (no pipeline), so live delivery, the
// replay->live switch under load and slow-consumer handling are driven deterministically.
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <prometheus/registry.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <thread>

#include "src/atproto/crypto.hpp"
#include "src/server/server.hpp"
#include "tests/e2e/harness.hpp"

using namespace labeler;
using namespace std::chrono_literals;
using e2e::ws_client;

namespace {

constexpr const char* sl = "/xrpc/com.atproto.label.subscribeLabels";

struct fixture {
    e2e::temp_dir dir;
    atproto::private_key key = atproto::private_key::generate();
    config::profile profile;
    prometheus::Registry registry;
    labeler::health health;
    std::unique_ptr<storage::label_store> store;
    boost::asio::io_context ioc;
    std::unique_ptr<server::server> srv;
    std::thread io;
    std::uint16_t port = 0;
    std::size_t next_index = 0;

    explicit fixture(std::size_t queue_frames = 10'000,
                     std::chrono::milliseconds ping_interval = 30s,
                     std::size_t max_connections = 10'000) {
        profile.environment = "test";
        profile.labeler_did = "did:plc:servertestxxxxxxxxxxxxxx";
        profile.server.host = "127.0.0.1";
        profile.server.port = 0;
        profile.server.subscriber_queue_frames = queue_frames;
        profile.server.ws_ping_interval = ping_interval;
        profile.server.max_connections = max_connections;
        storage::store_options so;
        so.path = dir.path() / "data";
        so.expected = {profile.environment, profile.labeler_did, key.did_key()};
        auto s = storage::label_store::open(so, &registry);
        REQUIRE(s.has_value());
        store = std::move(*s);
        health.set_store_open(true);
        srv = std::make_unique<server::server>(ioc, server::server_deps{profile, *store, registry, health});
        auto ep = srv->listen();
        REQUIRE(ep.has_value());
        port = ep->port;
        io = std::thread([this] { ioc.run(); });
    }
    ~fixture() {
        srv->stop();
        io.join();
        srv->finish();
    }

    // Commits `n` labels (optionally with a long subject) and publishes them like the pipeline.
    std::vector<storage::shared_entry> commit(std::size_t n, std::size_t uri_pad = 0) {
        auto labels = e2e::make_labels(n, profile.labeler_did, next_index);
        next_index += n;
        auto wb = store->begin();
        for (auto& l : labels) {
            if (uri_pad) l.uri = "at://" + l.uri + "/app.bsky.feed.post/" + std::string(uri_pad, 'a');
            l.sig = key.sign(atproto::signing_bytes(l));
            wb.append({l.src, l.uri, l.val, l.neg, l.cts, l.exp}, atproto::encode_cbor(l));
        }
        auto c = store->commit(std::move(wb));
        REQUIRE(c.has_value());
        srv->publish(*c);
        return *c;
    }

    double metric(const std::string& name) {
        for (auto& fam : registry.Collect())
            if (fam.name == name && !fam.metric.empty()) {
                auto& m = fam.metric[0];
                return fam.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
            }
        return -1;
    }
};

std::uint64_t read_seq(ws_client& c, std::chrono::milliseconds timeout = 10s) {
    auto bytes = c.read_frame(timeout);
    if (!bytes) return 0;
    auto f = e2e::decode_frame(*bytes);
    REQUIRE(f.has_value());
    REQUIRE(f->op == 1);
    return f->seq;
}

// A byte-level WebSocket client: writes exactly what a test gives it, reads server frames as
// they are on the wire. For protocol tests that a well-behaved client library cannot make.
class raw_client {
public:
    explicit raw_client(std::uint16_t port) : sock_(ioc_) {
        sock_.connect({boost::asio::ip::make_address("127.0.0.1"), port});
        timeval tv{5, 0};
        ::setsockopt(sock_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    static std::string upgrade(std::string_view version = "13",
                               std::string_view key = "dGhlIHNhbXBsZSBub25jZQ==") {
        return std::string("GET ") + sl + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: " +
               std::string(version) + "\r\nSec-WebSocket-Key: " + std::string(key) + "\r\n\r\n";
    }
    void send(const std::string& bytes) { boost::asio::write(sock_, boost::asio::buffer(bytes)); }
    // The HTTP response head (status line + headers).
    std::string read_head() {
        for (;;) {
            auto end = buf_.find("\r\n\r\n");
            if (end != std::string::npos) {
                auto head = buf_.substr(0, end + 4);
                buf_.erase(0, end + 4);
                return head;
            }
            if (!fill()) return buf_;
        }
    }
    struct frame {
        std::uint8_t first = 0;  // FIN/RSV/opcode byte
        std::string payload;
    };
    // The next server frame; nullopt on EOF or timeout (5 s).
    std::optional<frame> read_frame() {
        for (;;) {
            if (buf_.size() >= 2) {
                auto b1 = std::uint8_t(buf_[1]);
                REQUIRE((b1 & 0x80) == 0);  // server frames are never masked
                std::size_t len = b1 & 0x7F, hdr = 2;
                if (len == 126) {
                    hdr = 4;
                    if (buf_.size() >= 4) len = (std::uint8_t(buf_[2]) << 8) | std::uint8_t(buf_[3]);
                } else if (len == 127) {
                    hdr = 10;
                    len = 0;
                    if (buf_.size() >= 10)
                        for (int i = 0; i < 8; ++i) len = (len << 8) | std::uint8_t(buf_[2 + i]);
                }
                if (buf_.size() >= hdr && buf_.size() >= hdr + len) {
                    frame f{std::uint8_t(buf_[0]), buf_.substr(hdr, len)};
                    buf_.erase(0, hdr + len);
                    return f;
                }
            }
            if (!fill()) return std::nullopt;
        }
    }
    // True when the server closed the connection (EOF) within the receive timeout.
    bool eof() {
        while (fill()) buf_.clear();
        return eof_;
    }

private:
    bool fill() {
        char tmp[4096];
        boost::system::error_code ec;
        auto n = sock_.read_some(boost::asio::buffer(tmp), ec);
        if (ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset) eof_ = true;
        if (ec) return false;
        buf_.append(tmp, n);
        return true;
    }
    boost::asio::io_context ioc_;
    boost::asio::ip::tcp::socket sock_;
    std::string buf_;
    bool eof_ = false;
};

// Reads one frame from a raw client: it must be a binary #labels frame; returns its seq.
std::uint64_t read_label_seq(raw_client& c) {
    auto label = c.read_frame();
    REQUIRE(label);
    CHECK(label->first == 0x82);
    auto f = e2e::decode_frame(label->payload);
    REQUIRE(f.has_value());
    return f->seq;
}

// A masked client frame with a fixed key.
std::string client_frame(std::uint8_t first, const std::string& payload) {
    REQUIRE(payload.size() < 126);
    std::string out{char(first), char(0x80 | payload.size()), '\x01', '\x02', '\x03', '\x04'};
    for (std::size_t i = 0; i < payload.size(); ++i) out.push_back(char(payload[i] ^ (1 + i % 4)));
    return out;
}

}  // namespace

TEST_CASE("live delivery: published labels reach every subscriber in seq order") {
    fixture fx;
    ws_client a, b;
    REQUIRE(a.connect(fx.port, sl) == 101);
    REQUIRE(b.connect(fx.port, sl) == 101);
    auto first = fx.commit(10);
    auto second = fx.commit(90);
    for (ws_client* c : {&a, &b}) {
        for (std::uint64_t seq = 1; seq <= 100; ++seq) REQUIRE(read_seq(*c) == seq);
        CHECK_FALSE(c->read_frame(100ms));
    }
    CHECK(fx.srv->subscribers() == 2);
    CHECK(fx.metric("labeler_server_frames_sent_total") == 200);
    CHECK(fx.metric("labeler_server_subscribers") == 2);
}

TEST_CASE("replay then live while labels keep arriving: no gap, no duplicate") {
    fixture fx;
    fx.commit(5000);
    std::atomic<bool> go{false};
    std::thread writer([&] {
        while (!go) std::this_thread::yield();
        for (int i = 0; i < 300; ++i) fx.commit(5);
    });
    ws_client c;
    REQUIRE(c.connect(fx.port, std::string(sl) + "?cursor=0") == 101);
    go = true;  // commits race with the replay from here on
    for (std::uint64_t seq = 1; seq <= 6500; ++seq) {
        INFO("seq " << seq);
        REQUIRE(read_seq(c) == seq);
    }
    writer.join();
    CHECK_FALSE(c.read_frame(200ms));
    // a second subscriber from the middle gets exactly the tail
    ws_client d;
    REQUIRE(d.connect(fx.port, std::string(sl) + "?cursor=6400") == 101);
    for (std::uint64_t seq = 6401; seq <= 6500; ++seq) REQUIRE(read_seq(d) == seq);
    fx.commit(1);
    CHECK(read_seq(d) == 6501);
    CHECK(read_seq(c) == 6501);
}

TEST_CASE("a slow consumer is dropped with ConsumerTooSlow, the others get everything") {
    fixture fx(200);
    ws_client slow, fast;
    slow.set_receive_buffer(4096);
    REQUIRE(slow.connect(fx.port, sl) == 101);
    REQUIRE(fast.connect(fx.port, sl) == 101);
    std::uint64_t seq = 0;
    // 80 batches of 50 labels of ~4 KB: the slow client never reads and falls behind by far
    // more than its queue plus the socket buffers; the fast one keeps up batch by batch.
    for (int batch = 0; batch < 80; ++batch) {
        fx.commit(50, 4000);
        for (int i = 0; i < 50; ++i) REQUIRE(read_seq(fast) == ++seq);
    }
    CHECK(fx.metric("labeler_server_slow_consumer_drops_total") == 1);
    // The slow client now reads what was buffered, then the error frame and the close.
    std::optional<e2e::decoded_frame> last;
    while (auto bytes = slow.read_frame(10s)) {
        auto f = e2e::decode_frame(*bytes);
        REQUIRE(f.has_value());
        last = *f;
    }
    CHECK(slow.closed());
    REQUIRE(last);
    CHECK(last->op == -1);
    CHECK(last->error == "ConsumerTooSlow");
    CHECK(slow.close_code() == 1008);
    // the fast subscriber is still live
    fx.commit(1);
    CHECK(read_seq(fast) == seq + 1);
    CHECK(fx.srv->subscribers() == 1);
}

TEST_CASE("stop() closes subscribers with 1001 and refuses new connections") {
    fixture fx;
    ws_client c;
    REQUIRE(c.connect(fx.port, sl) == 101);
    auto ok = e2e::http_get(fx.port, "/xrpc/_health");
    CHECK(ok.status == 200);
    fx.srv->stop();
    CHECK_FALSE(c.read_frame(10s));
    CHECK(c.closed());
    CHECK(c.close_code() == 1001);
    CHECK_THROWS(e2e::http_get(fx.port, "/xrpc/_health", {}));
}

TEST_CASE("health is 503 with a reason when the pipeline is not ready") {
    fixture fx;
    fx.health.set_pipeline_ok(false, "source failed");
    auto r = e2e::http_get(fx.port, "/xrpc/_health");
    CHECK(r.status == 503);
    CHECK_FALSE(e2e::json_string_field(r.body, "version").empty());
    CHECK(e2e::json_string_field(r.body, "message").find("source failed") != std::string::npos);
    fx.health.set_pipeline_ok(true);
    CHECK(e2e::http_get(fx.port, "/xrpc/_health").status == 200);
}

TEST_CASE("the admin hook receives /admin/ requests") {
    fixture fx;
    // Installed after listen(): fine here, no request is in flight yet.
    fx.srv->set_admin_handler([](const server::admin_request& r) {
        return server::admin_response{200, "text/plain", r.method + " " + r.target};
    });
    auto r = e2e::http_get(fx.port, "/admin/ping?x=1");
    CHECK(r.status == 200);
    CHECK(r.body == "GET /admin/ping?x=1");
}

TEST_CASE("upgrade: the RFC 6455 accept key, 426 for another version, 400 for a bad key") {
    fixture fx;
    raw_client ok(fx.port);
    ok.send(raw_client::upgrade());
    auto head = ok.read_head();
    CHECK(head.starts_with("HTTP/1.1 101"));
    CHECK(head.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") != std::string::npos);

    raw_client v8(fx.port);
    v8.send(raw_client::upgrade("8"));
    auto h8 = v8.read_head();
    CHECK(h8.starts_with("HTTP/1.1 426"));
    CHECK(h8.find("Sec-WebSocket-Version: 13") != std::string::npos);

    raw_client bad(fx.port);
    bad.send(raw_client::upgrade("13", "short"));
    CHECK(bad.read_head().starts_with("HTTP/1.1 400"));
}

TEST_CASE("a ping sent in the same packet as the upgrade gets its pong, and close is echoed") {
    fixture fx;
    raw_client c(fx.port);
    c.send(raw_client::upgrade() + client_frame(0x89, "abc"));
    CHECK(c.read_head().starts_with("HTTP/1.1 101"));
    auto pong = c.read_frame();
    REQUIRE(pong);
    CHECK(pong->first == 0x8A);
    CHECK(pong->payload == "abc");
    // a message from the client is ignored; the stream goes on
    c.send(client_frame(0x82, "hello"));
    fx.commit(1);
    CHECK(read_label_seq(c) == 1);
    // closing handshake: the server echoes 1000 and closes the TCP connection
    c.send(client_frame(0x88, std::string("\x03\xe8", 2)));
    auto close = c.read_frame();
    REQUIRE(close);
    CHECK(close->first == 0x88);
    CHECK(close->payload.substr(0, 2) == std::string("\x03\xe8", 2));
    CHECK(c.eof());
}

TEST_CASE("a label committed right after the client reads the 101 reaches it (no cursor)") {
    // The session registers with the hub before the 101 is written; the other way round, a
    // commit landing between the two was lost for a live-only subscriber.
    fixture fx;
    for (std::uint64_t seq = 1; seq <= 200; ++seq) {
        raw_client c(fx.port);
        c.send(raw_client::upgrade());
        REQUIRE(c.read_head().starts_with("HTTP/1.1 101"));
        fx.commit(1);
        REQUIRE(read_label_seq(c) == seq);
    }
}

TEST_CASE("a protocol error closes with 1002 and the server keeps serving others") {
    fixture fx;
    raw_client c(fx.port);
    c.send(raw_client::upgrade());
    CHECK(c.read_head().starts_with("HTTP/1.1 101"));
    c.send(std::string("\x82\x02hi", 4));  // unmasked
    auto close = c.read_frame();
    REQUIRE(close);
    CHECK(close->first == 0x88);
    CHECK(close->payload.substr(0, 2) == std::string("\x03\xea", 2));
    CHECK(c.eof());

    ws_client d;
    REQUIRE(d.connect(fx.port, sl) == 101);
    fx.commit(1);
    CHECK(read_seq(d) == 1);
}

TEST_CASE("an idle client is pinged and dropped when it never answers, kept when it does") {
    fixture fx(10'000, 300ms);
    raw_client polite(fx.port);
    polite.send(raw_client::upgrade());
    CHECK(polite.read_head().starts_with("HTTP/1.1 101"));
    for (int i = 0; i < 4; ++i) {
        auto p = polite.read_frame();
        REQUIRE(p);
        REQUIRE(p->first == 0x89);
        polite.send(client_frame(0x8A, p->payload));
    }
    fx.commit(1);
    auto label = polite.read_frame();
    REQUIRE(label);
    CHECK(label->first == 0x82);

    raw_client silent(fx.port);
    silent.send(raw_client::upgrade());
    CHECK(silent.read_head().starts_with("HTTP/1.1 101"));
    auto ping = silent.read_frame();
    REQUIRE(ping);
    CHECK(ping->first == 0x89);
    CHECK(silent.eof());  // no pong within the interval: the server hangs up
}

TEST_CASE("live labels piling up during a long replay do not cut it short: the replay reads on") {
    fixture fx(100);  // a live backlog of 100 frames at most
    fx.commit(3000, 2000);  // ~6 MB to replay: far more than the socket buffers hold
    ws_client c;
    c.set_receive_buffer(4096);
    REQUIRE(c.connect(fx.port, std::string(sl) + "?cursor=0") == 101);
    // The client is not reading yet, so the replay is stuck in its writes while 500 live
    // labels (5x the backlog limit) are published.
    for (int i = 0; i < 10; ++i) fx.commit(50, 2000);
    std::this_thread::sleep_for(200ms);
    for (std::uint64_t seq = 1; seq <= 3500; ++seq) REQUIRE(read_seq(c) == seq);
    fx.commit(1);
    CHECK(read_seq(c) == 3501);
    CHECK(fx.metric("labeler_server_slow_consumer_drops_total") == 0);
    CHECK_FALSE(c.closed());
}

TEST_CASE("connections beyond server.max_connections get 503 and are closed, freed slots are reused") {
    fixture fx(10'000, 30s, 2);
    ws_client a;
    REQUIRE(a.connect(fx.port, sl) == 101);  // a WebSocket keeps its slot
    raw_client b(fx.port);
    b.send("GET /xrpc/_health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    CHECK(b.read_head().starts_with("HTTP/1.1 200"));  // keep-alive: still open
    raw_client c(fx.port);
    auto refused = c.read_head();
    CHECK(refused.starts_with("HTTP/1.1 503"));
    CHECK(refused.find("Connection: close") != std::string::npos);
    CHECK(c.eof());
    CHECK(fx.metric("labeler_server_connections_refused_total") == 1);
    // the subscriber is unaffected
    fx.commit(1);
    CHECK(read_seq(a) == 1);
    // closing the WebSocket frees its slot
    a.close();
    bool admitted = false;
    for (int i = 0; i < 50 && !admitted; ++i) {
        raw_client d(fx.port);
        d.send("GET /xrpc/_health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        admitted = d.read_head().starts_with("HTTP/1.1 200");
        if (!admitted) std::this_thread::sleep_for(100ms);
    }
    CHECK(admitted);
}

TEST_CASE("with a live limit of 10 frames, a 200-label replay then live labels all arrive") {
    fixture fx(10);  // at most 10 live frames behind
    fx.commit(200, 2000);  // ~440 KB: below the replay's 512 KiB pause, above the socket buffers
    ws_client c;
    c.set_receive_buffer(4096);
    REQUIRE(c.connect(fx.port, std::string(sl) + "?cursor=0") == 101);
    // Not reading: most of the 200 replayed frames are still queued when the session goes live.
    std::this_thread::sleep_for(300ms);
    fx.commit(5);
    std::this_thread::sleep_for(100ms);
    for (std::uint64_t seq = 1; seq <= 205; ++seq) REQUIRE(read_seq(c) == seq);
    CHECK(fx.metric("labeler_server_slow_consumer_drops_total") == 0);
}

TEST_CASE("a batch delivered late is not sent again to a subscriber whose cursor covers it") {
    fixture fx;
    auto early = fx.commit(5);
    ws_client c;
    REQUIRE(c.connect(fx.port, std::string(sl) + "?cursor=5") == 101);
    CHECK_FALSE(c.read_frame(300ms));  // nothing after the cursor yet
    // The fan-out of seq 1..5 reaching the session only now (it raced the cursor check).
    fx.srv->publish(early);
    fx.commit(1);
    CHECK(read_seq(c) == 6);
    CHECK_FALSE(c.read_frame(200ms));
}
