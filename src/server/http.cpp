// The listener, the HTTP session and the router. Beast's HTTP templates live only here.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <chrono>
#include <exception>
#include <sstream>

#include "src/server/json.hpp"
#include "src/server/query.hpp"
#include "src/server/sessions.hpp"
#include "src/server/state.hpp"
#include "src/server/wsproto.hpp"

#ifndef LABELER_VERSION
#define LABELER_VERSION "0.0.0"
#endif

namespace labeler::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using request_t = http::request<http::string_body>;
using response_t = http::response<http::string_body>;
using asio::awaitable;
using asio::use_awaitable;
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

namespace {

constexpr std::string_view query_labels_path = "/xrpc/com.atproto.label.queryLabels";
constexpr std::string_view subscribe_labels_path = "/xrpc/com.atproto.label.subscribeLabels";

response_t make_response(const request_t& req, http::status status, std::string content_type,
                         std::string body) {
    response_t res{status, req.version()};
    res.set(http::field::server, "random-labeler/" LABELER_VERSION);
    res.set(http::field::content_type, content_type);
    res.set(http::field::access_control_allow_origin, "*");
    res.keep_alive(req.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

response_t json_response(const request_t& req, http::status status, std::string body) {
    return make_response(req, status, "application/json; charset=utf-8", std::move(body));
}

response_t error_response(const request_t& req, http::status status, std::string_view error,
                          std::string_view message) {
    return json_response(req, status, xrpc_error_body(error, message));
}

std::string health_body(const server::state& st, bool ready) {
    std::string out = "{\"version\":";
    append_json_string(out, LABELER_VERSION);
    out += ",\"environment\":";
    append_json_string(out, st.profile.environment);
    if (!ready) {
        out += ",\"error\":\"NotReady\",\"message\":";
        append_json_string(out, st.health.reason());
    }
    out += "}";
    return out;
}

std::string status_page(server::state& st) {
    auto up = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                               st.started);
    std::string out = "random-labeler " LABELER_VERSION "\n";
    out += "environment: " + st.profile.environment + "\n";
    out += "labeler: " + st.profile.labeler_did + "\n";
    out += "last seq: " + std::to_string(st.store.last_seq()) + "\n";
    out += "subscribers: " + std::to_string(st.subscribers.size()) + "\n";
    out += "uptime: " + std::to_string(up.count()) + " s\n";
    out += "ready: " + std::string(st.health.ready() ? "yes" : "no (" + st.health.reason() + ")") +
           "\n";
    return out;
}

// The answer to a WebSocket upgrade of subscribeLabels (RFC 6455 §4.2.2): 101 with the accept
// key, 426 for a version other than 13, 400 for a missing or malformed key.
response_t upgrade_response(const request_t& req) {
    if (req[http::field::sec_websocket_version] != "13") {
        auto res = error_response(req, http::status::upgrade_required, "InvalidRequest",
                                  "unsupported Sec-WebSocket-Version (13 is supported)");
        res.set(http::field::sec_websocket_version, "13");
        return res;
    }
    auto key = req[http::field::sec_websocket_key];
    if (!ws::valid_client_key(key))
        return error_response(req, http::status::bad_request, "InvalidRequest",
                              "missing or malformed Sec-WebSocket-Key");
    response_t res{http::status::switching_protocols, req.version()};
    res.set(http::field::server, "random-labeler/" LABELER_VERSION);
    res.set(http::field::upgrade, "websocket");
    res.set(http::field::connection, "Upgrade");
    res.set(http::field::sec_websocket_accept, ws::accept_key(key));
    return res;
}

// Routes one request (not a WebSocket upgrade). Blocking work goes to the pool.
awaitable<response_t> handle(server::state& st, const request_t& req, route& r) {
    std::string_view target = req.target();
    auto qpos = target.find('?');
    std::string_view path = target.substr(0, qpos);
    std::string_view query = qpos == std::string_view::npos ? std::string_view{}
                                                            : target.substr(qpos + 1);
    const bool get = req.method() == http::verb::get || req.method() == http::verb::head;

    if (req.method() == http::verb::options) {
        r = route::options;
        response_t res{http::status::no_content, req.version()};
        res.set(http::field::access_control_allow_origin, "*");
        res.set(http::field::access_control_allow_methods, "GET, HEAD, POST, OPTIONS");
        res.set(http::field::access_control_allow_headers, "*");
        res.set(http::field::access_control_max_age, "86400");
        res.keep_alive(req.keep_alive());
        res.prepare_payload();
        co_return res;
    }
    if (path == query_labels_path) {
        r = route::query_labels;
        if (!get)
            co_return error_response(req, http::status::method_not_allowed, "InvalidRequest",
                                     "queryLabels only accepts GET");
        auto q = parse_query_labels(query);
        if (!q)
            co_return error_response(req, http::status::bad_request, "InvalidRequest",
                                     q.error().message);
        // last_seq is an atomic, not a store read: fine on the network thread.
        const std::uint64_t version = st.store.last_seq();
        if (st.query_cache.capacity()) {
            if (auto cached = st.query_cache.get(query, version)) {
                st.metrics.query_cache(true);
                co_return json_response(req, http::status::ok, std::move(*cached));
            }
            st.metrics.query_cache(false);
        }
        // Named locals, not temporaries, around co_await: g++ 12 may destroy a temporary
        // living across a co_await twice.
        auto work = [&st, req_q = std::move(*q)]() -> result<std::string> {
            query_labels_renderer body(req_q.limit, &st.label_json);
            if (auto ok = st.store.query_each(req_q, body); !ok) return ok.error();
            st.metrics.label_json_cache(body.cache_hits(), body.cache_misses());
            return result<std::string>(boost::system::in_place_value, body.finish());
        };
        auto op = offload(st.pool, std::move(work));
        auto body = co_await std::move(op);
        if (!body) {
            server_log.warn("queryLabels: {}", body.error().message);
            co_return error_response(req, http::status::internal_server_error,
                                     "InternalServerError", "the label store failed");
        }
        st.query_cache.put(query, version, *body);
        co_return json_response(req, http::status::ok, std::move(*body));
    }
    if (path == subscribe_labels_path) {
        r = route::subscribe_labels;
        if (req.method() != http::verb::get)
            co_return error_response(req, http::status::method_not_allowed, "InvalidRequest",
                                     "subscribeLabels only accepts GET");
        auto res = error_response(req, http::status::upgrade_required, "InvalidRequest",
                                  "subscribeLabels is a WebSocket endpoint: send Upgrade: websocket");
        res.set(http::field::upgrade, "websocket");
        co_return res;
    }
    if (path == "/xrpc/_health") {
        r = route::health;
        if (!get)
            co_return error_response(req, http::status::method_not_allowed, "InvalidRequest",
                                     "_health only accepts GET");
        bool ready = st.health.ready();
        co_return json_response(req, ready ? http::status::ok : http::status::service_unavailable,
                                health_body(st, ready));
    }
    if (path == "/metrics") {
        r = route::metrics;
        auto work = [&st] { return st.metrics.scrape(); };
        auto op = offload(st.pool, std::move(work));
        auto body = co_await std::move(op);
        co_return make_response(req, http::status::ok, "text/plain; version=0.0.4; charset=utf-8",
                                std::move(body));
    }
    if (path == "/") {
        r = route::status;
        auto work = [&st] { return status_page(st); };
        auto op = offload(st.pool, std::move(work));
        auto body = co_await std::move(op);
        co_return make_response(req, http::status::ok, "text/plain; charset=utf-8",
                                std::move(body));
    }
    if (path.starts_with("/admin/") && st.admin) {
        r = route::admin;
        admin_request ar;
        ar.method = std::string(req.method_string());
        ar.target = std::string(target);
        for (auto& f : req) {
            std::string name(f.name_string());
            for (auto& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
            ar.headers[name] = std::string(f.value());
        }
        ar.body = req.body();
        auto work = [&st, ar = std::move(ar)] { return st.admin(ar); };
        auto op = offload(st.pool, std::move(work));
        auto out = co_await std::move(op);
        co_return make_response(req, http::status(out.status), out.content_type,
                                std::move(out.body));
    }
    r = route::not_found;
    if (path.starts_with("/xrpc/"))
        co_return error_response(req, http::status::not_implemented, "MethodNotImplemented",
                                 "Method Not Implemented");
    co_return error_response(req, http::status::not_found, "NotFound", "Not Found");
}

// One HTTP/1.1 connection with keep-alive. Lives on its own strand.
class http_session : public connection, public std::enable_shared_from_this<http_session> {
public:
    http_session(server::state& st, tcp::socket socket, connection_slot slot)
        : st_(st), slot_(std::move(slot)), stream_(std::move(socket)) {}

    void shutdown() override {
        asio::post(stream_.get_executor(), [self = shared_from_this()] {
            self->stopping_ = true;
            if (self->idle_) self->stream_.socket().close();
        });
    }

    awaitable<void> run() {
        st_.metrics.connection_opened();
        struct guard {
            http_session* s;
            ~guard() {
                if (!s) return;
                s->st_.remove_connection(s);
                s->st_.metrics.connection_closed();
            }
        } g{this};
        const auto& cfg = st_.profile.server;
        beast::flat_buffer buf;
        for (;;) {
            if (stopping_) break;
            if (buf.size() == 0) {  // idle keep-alive wait for the next request's first bytes
                idle_ = true;
                stream_.expires_after(cfg.idle_timeout);
                auto [ec, n] =
                    co_await stream_.async_read_some(buf.prepare(4096), as_tuple_awaitable);
                idle_ = false;
                if (ec) break;
                buf.commit(n);
            }
            http::request_parser<http::string_body> parser;
            parser.header_limit(std::uint32_t(cfg.max_header_bytes));
            parser.body_limit(cfg.max_body_bytes);
            stream_.expires_after(cfg.read_timeout);
            auto [ec, n] = co_await http::async_read(stream_, buf, parser, as_tuple_awaitable);
            if (ec) {
                http::status status;
                if (ec == http::error::header_limit)
                    status = http::status::request_header_fields_too_large;
                else if (ec == http::error::body_limit)
                    status = http::status::payload_too_large;
                else if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
                         ec != http::error::end_of_stream && ec != http::error::partial_message)
                    status = http::status::bad_request;
                else
                    break;  // timeout, reset, EOF: just close
                request_t dummy{http::verb::get, "/", 11};
                dummy.keep_alive(false);
                auto res = error_response(dummy, status, "InvalidRequest", ec.message());
                st_.metrics.request(route::not_found, unsigned(status), 0);
                stream_.expires_after(cfg.read_timeout);
                co_await http::async_write(stream_, res, as_tuple_awaitable);
                break;
            }
            auto started = std::chrono::steady_clock::now();
            request_t req = parser.release();
            std::string_view target = req.target();
            if (beast::websocket::is_upgrade(req) &&
                target.substr(0, target.find('?')) == subscribe_labels_path) {
                response_t res = upgrade_response(req);
                st_.metrics.request(route::subscribe_labels, res.result_int(), 0);
                if (res.result() != http::status::switching_protocols) {
                    stream_.expires_after(cfg.read_timeout);
                    co_await http::async_write(stream_, res, as_tuple_awaitable);
                    break;
                }
                // The session writes the 101 itself, after registering with the hub.
                std::ostringstream handshake;
                handshake << res;
                stream_.expires_never();
                st_.remove_connection(this);
                st_.metrics.connection_closed();
                g.s = nullptr;
                start_subscribe_session(st_, stream_.release_socket(), std::string(target),
                                        std::move(handshake).str(),
                                        beast::buffers_to_string(buf.data()), std::move(slot_));
                co_return;
            }
            route r = route::not_found;
            response_t res = co_await handle(st_, req, r);
            if (stopping_) res.keep_alive(false);
            if (req.method() == http::verb::head) {
                auto len = res.body().size();
                res.body().clear();
                res.content_length(len);
            }
            stream_.expires_after(cfg.read_timeout);
            auto [wec, wn] = co_await http::async_write(stream_, res, as_tuple_awaitable);
            st_.metrics.request(r, res.result_int(),
                                std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                              started)
                                    .count());
            if (wec || !res.keep_alive()) break;
        }
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.close();
    }

    server::state& st_;
    connection_slot slot_;
    beast::tcp_stream stream_;
    bool idle_ = false;
    bool stopping_ = false;
};

// Over server.max_connections: a fixed 503 and the connection is closed (no request is read).
void refuse_connection(server::state& st, tcp::socket socket) {
    st.metrics.connection_refused();
    static const std::string response = [] {
        const std::string body = xrpc_error_body(
            "ServiceUnavailable", "too many open connections (server.max_connections)");
        return "HTTP/1.1 503 Service Unavailable\r\nServer: random-labeler/" LABELER_VERSION
               "\r\nContent-Type: application/json; charset=utf-8\r\n"
               "Access-Control-Allow-Origin: *\r\nConnection: close\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body;
    }();
    auto s = std::make_shared<tcp::socket>(std::move(socket));
    asio::async_write(*s, asio::buffer(response), [s](beast::error_code, std::size_t) {
        beast::error_code ignored;
        s->shutdown(tcp::socket::shutdown_both, ignored);
        s->close(ignored);
    });
}

void log_unexpected(std::exception_ptr e, const char* what) {
    if (!e) return;
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        server_log.error("{}: unexpected exception: {}", what, ex.what());
    } catch (...) {
        server_log.error("{}: unexpected exception", what);
    }
}

awaitable<void> accept_loop(server::state& st) {
    auto& acc = *st.acceptor;
    for (;;) {
        auto [ec, socket] = co_await acc.async_accept(asio::make_strand(st.ioc), as_tuple_awaitable);
        if (ec == asio::error::operation_aborted || st.stopping) co_return;
        if (ec) {  // e.g. EMFILE: back off briefly instead of spinning
            server_log.warn("accept: {}", ec.message());
            asio::steady_timer t(acc.get_executor(), std::chrono::milliseconds(100));
            co_await t.async_wait(as_tuple_awaitable);
            continue;
        }
        if (st.open_connections.load() >= st.profile.server.max_connections) {
            refuse_connection(st, std::move(socket));
            continue;
        }
        beast::error_code nd;
        socket.set_option(tcp::no_delay(true), nd);
        auto ex = socket.get_executor();
        auto session = std::make_shared<http_session>(st, std::move(socket),
                                                      connection_slot(st.open_connections));
        st.add_connection(session);
        asio::co_spawn(ex, [session]() -> awaitable<void> { co_await session->run(); },
                       [](std::exception_ptr e) { log_unexpected(e, "http session"); });
    }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// server

server::server(asio::io_context& ioc, server_deps deps)
    : state_(std::make_unique<state>(ioc, deps)) {}

server::~server() { state_->pool.join(); }

void server::finish() { state_->pool.join(); }

result<bound_endpoint> server::listen() {
    auto& st = *state_;
    const auto& cfg = st.profile.server;
    beast::error_code ec;
    auto addr = asio::ip::make_address(cfg.host, ec);
    if (ec) return fail("server: listen: bad address '" + cfg.host + "': " + ec.message());
    tcp::endpoint ep(addr, cfg.port);
    tcp::acceptor acc(asio::make_strand(st.ioc));
    acc.open(ep.protocol(), ec);
    if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acc.bind(ep, ec);
    if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        return fail("server: cannot listen on " + cfg.host + ":" + std::to_string(cfg.port) + ": " +
                    ec.message());
    auto bound = acc.local_endpoint();
    st.acceptor.emplace(std::move(acc));
    bound_endpoint out{bound.address().to_string(), bound.port()};
    std::string host = bound.address().is_v6() ? "[" + out.host + "]" : out.host;
    server_log.info("listening on {}:{}", host, out.port);
    asio::co_spawn(st.acceptor->get_executor(), accept_loop(st),
                   [](std::exception_ptr e) { log_unexpected(e, "listener"); });
    return out;
}

void server::stop() {
    auto& st = *state_;
    if (st.stopping.exchange(true)) return;
    if (st.acceptor) {
        asio::post(st.acceptor->get_executor(), [&st] {
            beast::error_code ec;
            st.acceptor->close(ec);
        });
    }
    st.subscribers.close_all();
    std::vector<std::shared_ptr<connection>> conns;
    {
        std::lock_guard lk(st.conn_mu);
        for (auto& [_, w] : st.conns)
            if (auto c = w.lock()) conns.push_back(std::move(c));
    }
    for (auto& c : conns) c->shutdown();
}

void server::publish(std::vector<storage::shared_entry> entries) {
    auto& st = *state_;
    // Nobody to deliver to: skip the encoding. A subscriber that registers right after this
    // check still gets these labels, from its read of the log (they are committed already).
    if (entries.empty() || st.subscribers.closed() || st.subscribers.size() == 0) return;
    frame_batch shared = make_wire_batch(entries);
    if (shared->size() == 0) return;
    asio::post(st.publish_strand, [&st, shared] { st.subscribers.publish(shared); });
}

void server::set_admin_handler(admin_handler h) { state_->admin = std::move(h); }

std::size_t server::subscribers() const { return state_->subscribers.size(); }

}  // namespace labeler::server
