// In-process server tests: a real listener on 127.0.0.1:0 and a real store in a temp folder;
// labels are committed and published by the test (no pipeline), so live delivery, the
// replay->live switch under load and slow-consumer handling are driven deterministically.
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <prometheus/registry.h>

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

    explicit fixture(std::size_t queue_frames = 10'000) {
        profile.environment = "test";
        profile.labeler_did = "did:plc:servertestxxxxxxxxxxxxxx";
        profile.server.host = "127.0.0.1";
        profile.server.port = 0;
        profile.server.subscriber_queue_frames = queue_frames;
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
