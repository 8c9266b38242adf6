// E2E: the real binary serving HTTP from a seeded data folder (queryLabels, health, metrics,
// status page, errors, CORS, limits, one listening port, graceful shutdown).
#include <catch2/catch.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <set>
#include <thread>

#include "tests/e2e/harness.hpp"
#include "tests/e2e/ingest_support.hpp"

using namespace labeler;
using namespace labeler::e2e;

namespace {

constexpr const char* ql = "/xrpc/com.atproto.label.queryLabels";

std::string q(const std::string& params) { return std::string(ql) + "?" + params; }

void require_invalid(const http_response& r) {
    INFO(r.body);
    REQUIRE(r.status == 400);
    CHECK(json_string_field(r.body, "error") == "InvalidRequest");
    CHECK_FALSE(json_string_field(r.body, "message").empty());
    CHECK(r.header("content-type").find("application/json") == 0);
}

}  // namespace

TEST_CASE("queryLabels: exact subject, prefix, bare star, sources and signatures") {
    served s(30);
    const auto& first = s.seeded[0].label;

    auto r = http_get(s.port(), q("uriPatterns=" + first.uri));
    REQUIRE(r.status == 200);
    CHECK(r.header("content-type").find("application/json") == 0);
    CHECK(r.header("access-control-allow-origin") == "*");
    auto page = parse_query_page(r.body);
    REQUIRE(page.labels.size() == 1);
    CHECK(page.labels[0].uri == first.uri);
    CHECK(page.labels[0].val == first.val);
    CHECK(page.labels[0].src == s.opts.did);
    CHECK(page.labels[0].ver == 1);
    CHECK_FALSE(page.labels[0].neg);
    CHECK(atproto::validate(page.labels[0]).has_value());
    CHECK(verify_label(page.labels[0], s.did_key));
    CHECK_FALSE(page.cursor);

    // Prefix: subjects 10..19 are ...0000000000000000001x; the pattern is inclusive.
    std::string prefix = "did:plc:subj0000000000000000001";
    page = parse_query_page(http_get(s.port(), q("uriPatterns=" + prefix + "*")).body);
    CHECK(page.labels.size() == 10);
    for (auto& l : page.labels) CHECK(l.uri.rfind(prefix, 0) == 0);

    // A bare '*' matches everything; default limit 50 > 30 labels, so one page.
    page = parse_query_page(http_get(s.port(), q("uriPatterns=*")).body);
    CHECK(page.labels.size() == 30);
    CHECK_FALSE(page.cursor);
    for (auto& l : page.labels) {
        CHECK(atproto::validate(l).has_value());
        CHECK(verify_label(l, s.did_key));
    }

    // Several patterns are OR-ed; repeated params; percent-encoding decoded.
    std::string a = s.seeded[3].label.uri, b = s.seeded[7].label.uri;
    page = parse_query_page(
        http_get(s.port(), q("uriPatterns=" + a + "&uriPatterns=did%3Aplc%3A" + b.substr(8))).body);
    REQUIRE(page.labels.size() == 2);
    CHECK(page.labels[0].uri == a);
    CHECK(page.labels[1].uri == b);

    // sources filter
    page = parse_query_page(
        http_get(s.port(), q("uriPatterns=*&sources=" + s.opts.did + "&limit=5")).body);
    CHECK(page.labels.size() == 5);
    page = parse_query_page(
        http_get(s.port(), q("uriPatterns=*&sources=did:plc:someoneelsexxxxxxxxxxxxx")).body);
    CHECK(page.labels.empty());
    CHECK_FALSE(page.cursor);

    // no match
    page = parse_query_page(http_get(s.port(), q("uriPatterns=did:plc:nobody")).body);
    CHECK(page.labels.empty());
    CHECK(s.proc->terminate() == 0);
}

TEST_CASE("queryLabels: invalid parameters are 400 InvalidRequest") {
    served s(3);
    require_invalid(http_get(s.port(), ql));                                  // no uriPatterns
    require_invalid(http_get(s.port(), q("limit=10")));                       // still none
    require_invalid(http_get(s.port(), q("uriPatterns=did:*:x")));            // '*' inside
    require_invalid(http_get(s.port(), q("uriPatterns=**")));                 // '*' not last
    require_invalid(http_get(s.port(), q("uriPatterns=")));                   // empty pattern
    require_invalid(http_get(s.port(), q("uriPatterns=*&limit=0")));
    require_invalid(http_get(s.port(), q("uriPatterns=*&limit=251")));
    require_invalid(http_get(s.port(), q("uriPatterns=*&limit=ten")));
    require_invalid(http_get(s.port(), q("uriPatterns=*&limit=-1")));
    require_invalid(http_get(s.port(), q("uriPatterns=*&cursor=abc")));
    require_invalid(http_get(s.port(), q("uriPatterns=*&cursor=-5")));
    require_invalid(http_get(s.port(), q("uriPatterns=*&sources=notadid")));
    require_invalid(http_get(s.port(), q("uriPatterns=*&limit=5&limit=6")));
    // bounds are inclusive
    CHECK(http_get(s.port(), q("uriPatterns=*&limit=1")).status == 200);
    CHECK(http_get(s.port(), q("uriPatterns=*&limit=250")).status == 200);
    // POST is not allowed
    auto r = http_request(s.port(), "POST", q("uriPatterns=*"));
    CHECK(r.status == 405);
    CHECK(s.proc->terminate() == 0);
}

TEST_CASE("queryLabels: paginates through 1000 labels in seq order, no repeats, no gaps") {
    served s(1000);
    for (std::size_t limit : {250u, 50u, 7u}) {
        INFO("limit " << limit);
        std::vector<std::string> uris;
        std::optional<std::string> cursor;
        std::size_t pages = 0;
        for (;;) {
            std::string t = q("uriPatterns=*&limit=" + std::to_string(limit));
            if (cursor) t += "&cursor=" + *cursor;
            auto r = http_get(s.port(), t);
            REQUIRE(r.status == 200);
            auto page = parse_query_page(r.body);
            REQUIRE(page.labels.size() <= limit);
            for (auto& l : page.labels) uris.push_back(l.uri);
            ++pages;
            REQUIRE(pages <= 1000 / limit + 2);
            if (!page.cursor) break;
            cursor = page.cursor;
        }
        REQUIRE(uris.size() == 1000);
        for (std::size_t i = 0; i < uris.size(); ++i) REQUIRE(uris[i] == s.seeded[i].label.uri);
        CHECK(std::set<std::string>(uris.begin(), uris.end()).size() == 1000);
    }
    // The later passes were rendered from the label JSON cache (and matched the seeded labels).
    CHECK(ingest::metric(s.port(), "labeler_server_label_json_cache_total", "result=\"hit\"") >= 2000);
    CHECK(ingest::metric(s.port(), "labeler_server_label_json_cache_total", "result=\"miss\"") == 1000);
    // the default limit is 50
    auto page = parse_query_page(http_get(s.port(), q("uriPatterns=*")).body);
    CHECK(page.labels.size() == 50);
    CHECK(page.cursor);
    CHECK(s.proc->terminate() == 0);
}

TEST_CASE("health, metrics, status page, 501/404, CORS preflight") {
    served s(5);
    auto h = http_get(s.port(), "/xrpc/_health");
    CHECK(h.status == 200);
    CHECK_FALSE(json_string_field(h.body, "version").empty());
    CHECK(json_string_field(h.body, "environment") == "e2e");

    http_get(s.port(), q("uriPatterns=*"));
    auto m = http_get(s.port(), "/metrics");
    REQUIRE(m.status == 200);
    CHECK(m.header("content-type").find("text/plain") == 0);
    for (const char* name :
         {"labeler_server_requests_total{", "labeler_server_request_seconds_bucket{",
          "labeler_server_subscribers ", "labeler_server_connections ",
          "labeler_server_frames_sent_total ", "labeler_server_slow_consumer_drops_total ",
          "process_cpu_seconds_total ", "process_resident_memory_bytes ", "process_open_fds ",
          "process_start_time_seconds ", "labeler_storage_"}) {
        INFO(name);
        CHECK(m.body.find(name) != std::string::npos);
    }
    CHECK(m.body.find("route=\"queryLabels\",status=\"200\"") != std::string::npos);

    auto st = http_get(s.port(), "/");
    CHECK(st.status == 200);
    CHECK(st.body.find("e2e") != std::string::npos);
    CHECK(st.body.find(s.opts.did) != std::string::npos);
    CHECK(st.body.find("last seq: 5") != std::string::npos);

    auto ni = http_get(s.port(), "/xrpc/com.example.nothing");
    CHECK(ni.status == 501);
    CHECK(json_string_field(ni.body, "error") == "MethodNotImplemented");
    auto nf = http_get(s.port(), "/nothing/here");
    CHECK(nf.status == 404);
    CHECK(nf.header("content-type").find("application/json") == 0);
    CHECK_FALSE(json_string_field(nf.body, "error").empty());
    auto admin = http_get(s.port(), "/admin/status");
    CHECK(admin.status == 404);

    auto pre = http_request(s.port(), "OPTIONS", ql,
                            {{"Origin", "https://example.com"},
                             {"Access-Control-Request-Method", "GET"}});
    CHECK(pre.status == 204);
    CHECK(pre.header("access-control-allow-origin") == "*");
    CHECK(pre.header("access-control-allow-methods").find("GET") != std::string::npos);
    CHECK(s.proc->terminate() == 0);
}

TEST_CASE("limits: oversized headers are refused, keep-alive serves several requests") {
    served s(2);
    auto r = http_get(s.port(), "/xrpc/_health", {{"X-Big", std::string(20000, 'a')}});
    CHECK(r.status == 431);
    // the process still serves
    CHECK(http_get(s.port(), "/xrpc/_health").status == 200);
    CHECK(s.proc->terminate() == 0);
}

TEST_CASE("server.max_connections: one connection more gets 503 and is closed, then a slot frees") {
    served s(3, "max_connections = 2");
    auto read_all = [&] {  // connect, send nothing, read what the server says until it closes
        boost::asio::io_context ioc;
        boost::asio::ip::tcp::socket sock(ioc);
        sock.connect({boost::asio::ip::make_address("127.0.0.1"), s.port()});
        timeval tv{5, 0};
        ::setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        std::string out;
        char buf[4096];
        boost::system::error_code ec;
        while (std::size_t n = sock.read_some(boost::asio::buffer(buf), ec)) out.append(buf, n);
        return out;
    };
    {
        ws_client a, b;  // two WebSockets hold both slots
        REQUIRE(a.connect(s.port(), "/xrpc/com.atproto.label.subscribeLabels") == 101);
        REQUIRE(b.connect(s.port(), "/xrpc/com.atproto.label.subscribeLabels") == 101);
        auto refused = read_all();
        INFO(refused);
        CHECK(refused.starts_with("HTTP/1.1 503"));
        CHECK(json_string_field(refused.substr(refused.find("\r\n\r\n") + 4), "error") ==
              "ServiceUnavailable");
        a.close();
    }
    bool admitted = false;  // the closed WebSockets' slots come back
    for (int i = 0; i < 50 && !admitted; ++i) {
        admitted = http_get(s.port(), "/xrpc/_health").status == 200;
        if (!admitted) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(admitted);
    // at least the one above (a retry of the loop may have been refused too)
    const auto metrics = http_get(s.port(), "/metrics").body;
    const std::string name = "\nlabeler_server_connections_refused_total ";
    const auto at = metrics.find(name);
    REQUIRE(at != std::string::npos);
    CHECK(std::stod(metrics.substr(at + name.size())) >= 1);
    CHECK(s.proc->terminate() == 0);
}

TEST_CASE("the process listens on exactly one TCP port") {
    served s(2);
    auto ports = listening_ports(s.proc->pid());
    REQUIRE(ports.size() == 1);
    CHECK(ports[0] == s.port());
    // connecting a WebSocket and querying does not open another listener
    ws_client c;
    REQUIRE(c.connect(s.port(), "/xrpc/com.atproto.label.subscribeLabels") == 101);
    http_get(s.port(), "/metrics");
    CHECK(listening_ports(s.proc->pid()).size() == 1);
    CHECK(s.proc->terminate() == 0);
}

TEST_CASE("a data folder stamped for another environment refuses to start") {
    temp_dir dir;
    write_key(dir.path());
    profile_options o;
    write_profile(dir.path(), o);
    seed_store(dir.path(), o, make_labels(1, o.did));
    o.environment = "other";
    write_profile(dir.path(), o);
    CHECK_THROWS_WITH(labeler_process::start(dir.path() / "profile.toml", {}, 10s),
                      Catch::Contains("e2e") && Catch::Contains("other"));
}
