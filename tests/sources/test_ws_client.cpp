#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "pipeline/sources/ws_client.hpp"
#include "tests/sources/helpers.hpp"

namespace labeler::testing {
std::uint16_t dead_port() {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor a(
        ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return a.local_endpoint().port();
}
}  // namespace labeler::testing

using labeler::pipeline::ws::make_endpoint;
using labeler::pipeline::ws::query_param;

TEST_CASE("make_endpoint keeps the path and appends encoded parameters") {
    std::vector<query_param> p{{"wantedCollections", "app.bsky.graph.follow"},
                               {"cursor", "123"},
                               {"odd", "a b&c=d"}};
    auto ep = make_endpoint("ws://127.0.0.1:6008/subscribe", p);
    REQUIRE(ep.has_value());
    CHECK_FALSE(ep->tls);
    CHECK(ep->host == "127.0.0.1");
    CHECK(ep->port == "6008");
    CHECK(ep->host_header == "127.0.0.1:6008");
    CHECK(ep->target ==
          "/subscribe?wantedCollections=app.bsky.graph.follow&cursor=123&odd=a%20b%26c=d");
}

TEST_CASE("make_endpoint keeps an existing query and defaults the port and path") {
    std::vector<query_param> p{{"cursor", "7"}};
    auto ep = make_endpoint("wss://jetstream1.us-east.bsky.network?x=1", p);
    REQUIRE(ep.has_value());
    CHECK(ep->tls);
    CHECK(ep->port == "443");
    CHECK(ep->host_header == "jetstream1.us-east.bsky.network");
    CHECK(ep->target == "/?x=1&cursor=7");
    auto ep2 = make_endpoint("wss://relay.example:443/xrpc/com.atproto.sync.subscribeRepos", {});
    REQUIRE(ep2.has_value());
    CHECK(ep2->host_header == "relay.example");
    CHECK(ep2->target == "/xrpc/com.atproto.sync.subscribeRepos");
}

TEST_CASE("make_endpoint rejects other schemes and garbage") {
    CHECK_FALSE(make_endpoint("http://example.com/subscribe", {}).has_value());
    CHECK_FALSE(make_endpoint("not a url", {}).has_value());
    CHECK_FALSE(make_endpoint("ws:///nohost", {}).has_value());
    auto e = make_endpoint("https://example.com", {});
    REQUIRE_FALSE(e.has_value());
    CHECK(e.error().message.find("scheme") != std::string::npos);
}
