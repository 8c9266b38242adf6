#pragma once
// server: the one network endpoint of the labeler (Boost.Beast, HTTP/1.1 + WebSocket).
//
// Owns the listener, every HTTP and WebSocket session, the subscriber hub and a small blocking
// pool for RocksDB reads. Routes (all on one port): queryLabels, subscribeLabels (WebSocket),
// /xrpc/_health, /metrics, / (status page) and an /admin/ hook. Sessions run on the caller's
// io_context, one strand per connection; the caller runs the io_context on its threads.
// publish() is the storage::label_sink the pipeline writes into: each entry's frame is encoded
// once and fanned out to every subscriber's bounded queue. Thread-safe: listen() once, then
// publish()/stop()/subscribers() from any thread. Teardown order: stop(), io_context
// threads joined, finish(), io_context destroyed, server destroyed.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "src/common/health.hpp"
#include "src/common/result.hpp"
#include "src/config/profile.hpp"
#include "storage/label_sink.hpp"
#include "storage/label_store.hpp"

namespace boost::asio { class io_context; }
namespace prometheus { class Registry; }

namespace labeler::server {

struct server_deps {
    const config::profile& profile;
    storage::label_store& store;
    prometheus::Registry& metrics;
    labeler::health& health;
};

struct bound_endpoint {
    std::string host;
    std::uint16_t port = 0;
};

// What the /admin/ hook sees and answers (runs on the blocking pool).
struct admin_request {
    std::string method;
    std::string target;                          // path + query, as received
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
};
struct admin_response {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::string body;
};
using admin_handler = std::function<admin_response(const admin_request&)>;

class server : public storage::label_sink {
public:
    server(boost::asio::io_context& ioc, server_deps deps);
    ~server() override;
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    // Binds profile.server.host:port (port 0 = any free port), starts accepting and logs one
    // line `listening on HOST:PORT`. Returns the bound address or why binding failed.
    result<bound_endpoint> listen();
    // Graceful stop, thread-safe and idempotent: stop accepting, close every WebSocket with a
    // close frame (1001), close idle HTTP connections and finish busy ones. Returns at once;
    // the io_context runs out of work when the sessions are gone.
    void stop();
    // Call after the io_context stopped running and before destroying it: waits for work on
    // the blocking pool, so no completion is posted to a destroyed io_context.
    void finish();
    // label_sink: encodes each entry's frame once and fans it out (never blocks).
    void publish(std::vector<storage::shared_entry> entries) override;
    // Installs the handler for /admin/... (absent: 404). Call before listen().
    void set_admin_handler(admin_handler h);
    // Live subscribers right now.
    std::size_t subscribers() const;

    struct state;

private:
    std::unique_ptr<state> state_;
};

}  // namespace labeler::server
