#include "pipeline/sources/ws_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <openssl/x509_vfy.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/buffered_read_stream.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <random>
#include <thread>

#include "src/common/log.hpp"
#include "src/common/thread_name.hpp"

// Beast's WebSocket close/teardown for a stream layered on buffered_read_stream: forward to
// the layer below (found by ADL from inside websocket::stream).
namespace boost::beast {
template <class Stream, class Buffer>
void teardown(role_type role, buffered_read_stream<Stream, Buffer>& s,
              error_code& ec) {
    using websocket::teardown;
    teardown(role, s.next_layer(), ec);
}
template <class Stream, class Buffer, class Handler>
void async_teardown(role_type role, buffered_read_stream<Stream, Buffer>& s,
                    Handler&& handler) {
    using websocket::async_teardown;
    async_teardown(role, s.next_layer(), std::forward<Handler>(handler));
}
}  // namespace boost::beast

namespace labeler::pipeline::ws {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

const labeler::logger log_{"source"};
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Hard protocol limit: far above any accepted message, so oversize messages are skipped
// piecewise by the read loop instead of killing the connection (which would loop on replay).
constexpr std::uint64_t protocol_message_max = 256ull * 1024 * 1024;
// Socket reads go through a buffered_read_stream of this size: one recv() brings hundreds of
// small events instead of Beast's 1.5 KiB.
constexpr std::size_t socket_read_bytes = 256 * 1024;

using plain_layer = beast::buffered_read_stream<beast::tcp_stream, beast::flat_buffer>;
using tls_layer = beast::buffered_read_stream<ssl::stream<beast::tcp_stream>, beast::flat_buffer>;

// Monotonic time for the idle watchdog, read twice per message: the coarse clock (a few ms of
// resolution, far below any idle timeout) costs a memory read instead of a clock-source read,
// which on this VM's paravirtual clock was ~2% of the source thread's CPU.
std::int64_t now_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return std::int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

result<endpoint> make_endpoint(std::string_view url, std::span<const query_param> params) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) return fail(fmt::format("source url '{}': not a valid URL", url));
    boost::urls::url u(*parsed);
    endpoint ep;
    if (u.scheme() == "ws") {
        ep.tls = false;
    } else if (u.scheme() == "wss") {
        ep.tls = true;
    } else {
        return fail(fmt::format("source url '{}': scheme must be ws or wss", url));
    }
    if (!u.has_authority() || u.host_address().empty())
        return fail(fmt::format("source url '{}': no host", url));
    ep.host = u.host_address();
    const std::string default_port = ep.tls ? "443" : "80";
    ep.port = u.has_port() ? std::string(u.port()) : default_port;
    if (ep.port.empty()) ep.port = default_port;
    std::string host_for_header = std::string(u.encoded_host_and_port());
    if (!u.has_port() || ep.port == default_port) host_for_header = std::string(u.encoded_host());
    ep.host_header = host_for_header;
    for (auto& [k, v] : params) u.params().append({k, v});
    u.remove_fragment();
    ep.target = u.encoded_path().empty() ? "/" : std::string(u.encoded_path());
    if (u.has_query()) ep.target += "?" + std::string(u.encoded_query());
    ep.url = std::string(u.buffer());
    return ep;
}

struct reconnecting_client::impl {
    struct outcome {
        std::string reason;
        std::string detail;
        std::uint64_t messages = 0;
    };

    impl(client_options o, message_handler& h, prometheus::Registry& reg)
        : opts(std::move(o)),
          handler(h),
          reconnects(prometheus::BuildCounter()
                         .Name("labeler_source_reconnects_total")
                         .Help("Source reconnects by reason")
                         .Register(reg)),
          connected(prometheus::BuildGauge()
                        .Name("labeler_source_connected")
                        .Help("1 while the source holds an open WebSocket connection")
                        .Register(reg)
                        .Add({{"source", opts.kind}})),
          frames(prometheus::BuildCounter()
                     .Name("labeler_source_frames_total")
                     .Help("Messages received by the source, by frame kind")
                     .Register(reg)),
          bytes(prometheus::BuildCounter()
                    .Name("labeler_source_bytes_total")
                    .Help("Payload bytes received by the source (as sent, before decompression)")
                    .Register(reg)
                    .Add({{"source", opts.kind}})),
          oversize(prometheus::BuildCounter()
                       .Name("labeler_source_oversize_total")
                       .Help("Messages above source.max_event_bytes, discarded unread")
                       .Register(reg)
                       .Add({{"source", opts.kind}})),
          text_frames(frames.Add({{"kind", "text"}})),
          binary_frames(frames.Add({{"kind", "binary"}})),
          rng(std::random_device{}()) {
        tls.set_default_verify_paths();
        tls.set_verify_mode(ssl::verify_peer);
        if (!opts.ca_file.empty()) {
            beast::error_code ec;
            tls.load_verify_file(opts.ca_file.string(), ec);
            if (ec)
                log_.error("{}: cannot load CA file {} ({}); only the system CA store is trusted",
                           opts.kind, opts.ca_file.string(), ec.message());
        }
    }

    client_options opts;
    message_handler& handler;
    prometheus::Family<prometheus::Counter>& reconnects;
    prometheus::Gauge& connected;
    prometheus::Family<prometheus::Counter>& frames;
    prometheus::Counter& bytes;
    prometheus::Counter& oversize;
    prometheus::Counter& text_frames;
    prometheus::Counter& binary_frames;
    std::minstd_rand rng;
    ssl::context tls{ssl::context::tls_client};
    beast::flat_buffer buf;
    beast::flat_buffer scratch;
    std::atomic<bool> stopping{false};
    std::atomic<std::uint64_t> connections{0};
    std::function<void()> cancel_current;  // io thread only
    std::mutex fd_mu;                        // guards current_fd, streaming
    int current_fd = -1;                     // the socket being read synchronously, or -1
    bool streaming = false;
    std::atomic<bool> in_handler{false};
    std::atomic<bool> watchdog_fired{false};
    std::atomic<std::int64_t> last_activity{0};
    std::mutex wd_mu;
    std::condition_variable wd_cv;
    std::thread watchdog_thread;
    std::mutex start_mu;
    bool started = false;
    std::thread thread;
    asio::io_context ioc{1};  // last: destroyed first, with any pending coroutine frame
    asio::steady_timer backoff_timer{ioc};

    static outcome from_error(beast::error_code ec, std::string_view stage) {
        if (ec == websocket::error::closed) return {"closed", fmt::format("{}: closed by peer", stage)};
        if (ec == beast::error::timeout) return {"timeout", fmt::format("{}: timed out", stage)};
        if (ec == asio::error::eof || ec == asio::error::connection_reset ||
            ec == asio::error::broken_pipe || ec == asio::ssl::error::stream_truncated)
            return {"dropped", fmt::format("{}: connection dropped ({})", stage, ec.message())};
        if (ec.category() == asio::error::get_ssl_category())
            return {"tls_error", fmt::format("{}: {}", stage, ec.message())};
        if (ec.category() == websocket::make_error_code(websocket::error::closed).category())
            return {"protocol_error", fmt::format("{}: {}", stage, ec.message())};
        return {"connect_failed", fmt::format("{}: {}", stage, ec.message())};
    }

    // Streaming phase: synchronous reads on this (dedicated) thread. A message already in the
    // read buffer costs no syscall and no scheduler round trip; the watchdog thread provides
    // the idle timeout and stop() shuts the socket down to interrupt a blocked read.
    template <class Ws>
    outcome read_loop(Ws& ws) {
        outcome out;
        const std::size_t max = opts.max_message_bytes;
        auto failed = [&](beast::error_code ec) {
            auto o = from_error(ec, "read");
            if (ec == websocket::error::closed)
                o.detail = fmt::format("read: closed by peer (code {}, '{}')", ws.reason().code,
                                       std::string(ws.reason().reason.data(),
                                                   ws.reason().reason.size()));
            if (watchdog_fired.exchange(false)) {
                o.reason = "timeout";
                o.detail = fmt::format("read: no data for {} ms", opts.idle_timeout.count());
            }
            o.messages = out.messages;
            return o;
        };
        for (;;) {
            buf.clear();
            std::size_t seen = 0;
            bool over = false;
            do {
                beast::error_code ec;
                std::size_t n = 0;
                if (!over) {
                    n = ws.read_some(buf, max + 1 - buf.size(), ec);
                } else {
                    scratch.clear();
                    n = ws.read_some(scratch, 64 * 1024, ec);
                }
                if (ec) return failed(ec);
                seen += n;
                if (!over && buf.size() > max) {
                    over = true;
                    buf.clear();
                }
            } while (!ws.is_message_done());
            last_activity.store(now_ns(), std::memory_order_relaxed);
            if (over) {
                oversize.Increment();
                bytes.Increment(double(seen));
                handler.on_oversize(seen);
                continue;
            }
            bool binary = ws.got_binary();
            (binary ? binary_frames : text_frames).Increment();
            bytes.Increment(double(buf.size()));
            ++out.messages;
            auto data = buf.cdata();
            in_handler.store(true, std::memory_order_relaxed);
            verdict v = handler.on_message(
                std::string_view(static_cast<const char*>(data.data()), data.size()), binary);
            in_handler.store(false, std::memory_order_relaxed);
            last_activity.store(now_ns(), std::memory_order_relaxed);
            if (v.reconnect) {
                out.reason = std::move(v.reason);
                out.detail = std::move(v.detail);
                beast::error_code ignored;
                ws.close(websocket::close_code::normal, ignored);  // bounded by the watchdog
                return out;
            }
            if (stopping) return out;
        }
    }

    template <class Ws>
    asio::awaitable<outcome> run_ws(Ws& ws, const endpoint& ep) {
        beast::get_lowest_layer(ws).expires_never();
        ws.next_layer().capacity(socket_read_bytes);
        ws.next_layer().buffer().reserve(socket_read_bytes);
        websocket::stream_base::timeout t;
        t.handshake_timeout = opts.connect_timeout;
        t.idle_timeout = websocket::stream_base::none();
        t.keep_alive_pings = false;
        ws.set_option(t);
        ws.read_message_max(protocol_message_max);
        ws.auto_fragment(false);
        ws.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
            req.set(beast::http::field::user_agent, "random-labeler");
        }));
        ws.control_callback([this](websocket::frame_type, beast::string_view) {
            last_activity.store(now_ns(), std::memory_order_relaxed);
        });
        auto [ec] = co_await ws.async_handshake(ep.host_header, ep.target, use_tuple);
        if (ec) co_return from_error(ec, "websocket handshake");
        connections.fetch_add(1);
        connected.Set(1);
        log_.debug("{}: connected to {}", opts.kind, ep.url);
        {
            std::lock_guard lk(fd_mu);
            if (stopping) co_return outcome{};
            current_fd = beast::get_lowest_layer(ws).socket().native_handle();
            last_activity.store(now_ns());
            watchdog_fired = false;
            streaming = true;
        }
        auto out = read_loop(ws);
        {
            std::lock_guard lk(fd_mu);
            streaming = false;
            current_fd = -1;
        }
        connected.Set(0);
        co_return out;
    }

    asio::awaitable<outcome> session(const endpoint& ep) {
        tcp::resolver resolver(ioc);
        cancel_current = [&resolver] { resolver.cancel(); };
        auto [rec, results] = co_await resolver.async_resolve(ep.host, ep.port, use_tuple);
        cancel_current = nullptr;
        if (rec) co_return from_error(rec, "resolve");
        if (stopping) co_return outcome{};
        if (!ep.tls) {
            websocket::stream<plain_layer> ws(ioc);
            cancel_current = [&ws] { beast::get_lowest_layer(ws).cancel(); };
            beast::get_lowest_layer(ws).expires_after(opts.connect_timeout);
            auto [cec, _] = co_await beast::get_lowest_layer(ws).async_connect(results, use_tuple);
            if (cec) {
                cancel_current = nullptr;
                co_return from_error(cec, "connect");
            }
            beast::get_lowest_layer(ws).socket().set_option(tcp::no_delay(true));
            auto out = co_await run_ws(ws, ep);
            cancel_current = nullptr;
            co_return out;
        }
        websocket::stream<tls_layer> ws(ioc, tls);
        auto& tls_stream = ws.next_layer().next_layer();
        cancel_current = [&ws] { beast::get_lowest_layer(ws).cancel(); };
        auto finish = [this](outcome o) {
            cancel_current = nullptr;
            return o;
        };
        if (!SSL_set_tlsext_host_name(tls_stream.native_handle(), ep.host.c_str()))
            co_return finish({"tls_error", "cannot set TLS SNI host name"});
        tls_stream.set_verify_mode(ssl::verify_peer);
        // OpenSSL checks the name (DNS name, or IP address for a literal) during verification,
        // so a refusal carries its reason ("hostname mismatch", "unable to get local issuer
        // certificate", ...) in the verify result.
        {
            X509_VERIFY_PARAM* param = SSL_get0_param(tls_stream.native_handle());
            beast::error_code not_ip;
            asio::ip::make_address(ep.host, not_ip);
            const int set = not_ip ? X509_VERIFY_PARAM_set1_host(param, ep.host.c_str(), 0)
                                   : X509_VERIFY_PARAM_set1_ip_asc(param, ep.host.c_str());
            if (set != 1) co_return finish({"tls_error", "cannot set the expected TLS host name"});
        }
        beast::get_lowest_layer(ws).expires_after(opts.connect_timeout);
        auto [cec, _] = co_await beast::get_lowest_layer(ws).async_connect(results, use_tuple);
        if (cec) co_return finish(from_error(cec, "connect"));
        beast::get_lowest_layer(ws).expires_after(opts.connect_timeout);
        auto [hec] = co_await tls_stream.async_handshake(ssl::stream_base::client, use_tuple);
        if (hec) {
            auto out = from_error(hec, "TLS handshake");
            const long verify = SSL_get_verify_result(tls_stream.native_handle());
            if (verify != X509_V_OK)
                out.detail += fmt::format(" ({})", X509_verify_cert_error_string(verify));
            co_return finish(std::move(out));
        }
        co_return finish(co_await run_ws(ws, ep));
    }

    // Idle timeout of the streaming phase: no message (nor control frame) for idle_timeout
    // while not inside the handler -> shut the socket down (reason "timeout").
    void watchdog() {
        const auto tick = std::max(std::chrono::milliseconds(10),
                                   std::min<std::chrono::milliseconds>(
                                       std::chrono::seconds(1), opts.idle_timeout / 4));
        std::unique_lock lk(wd_mu);
        while (!wd_cv.wait_for(lk, tick, [&] { return stopping.load(); })) {
            std::lock_guard fl(fd_mu);
            if (!streaming || current_fd < 0 || in_handler.load()) continue;
            auto idle = std::chrono::nanoseconds(now_ns() - last_activity.load());
            if (idle > opts.idle_timeout) {
                watchdog_fired = true;
                ::shutdown(current_fd, SHUT_RDWR);
            }
        }
    }

    asio::awaitable<void> run() {
        std::size_t url_index = 0;
        auto backoff = opts.backoff_initial;
        std::string reason = "start";
        std::chrono::milliseconds waited{0};
        for (;;) {
            if (stopping) co_return;
            std::string cursor_text = "none";
            auto params = handler.connect_params(cursor_text);
            const std::string& url = opts.urls[url_index % opts.urls.size()];
            outcome out;
            if (reason == "start") {
                log_.info("{}: connecting to {} (cursor {}, reason: start)", opts.kind, url,
                          cursor_text);
            } else {
                log_.warn("{}: reconnecting to {} (cursor {}, reason: {}, after {} ms)",
                          opts.kind, url, cursor_text, reason, waited.count());
            }
            auto ep = make_endpoint(url, params);
            if (!ep) {
                out = {"bad_url", ep.error().message};
            } else {
                out = co_await session(*ep);
            }
            if (stopping) co_return;
            if (out.reason.empty()) out.reason = "closed";
            reconnects.Add({{"reason", out.reason}}).Increment();
            reason = out.detail.empty() ? out.reason : out.detail;
            if (out.messages > 0) {
                backoff = opts.backoff_initial;
            } else {
                ++url_index;  // fail over to the next URL
            }
            auto cap = std::max<std::int64_t>(backoff.count(), 0);
            waited = std::chrono::milliseconds(
                std::uniform_int_distribution<std::int64_t>(0, cap)(rng));
            backoff = std::min(opts.backoff_max, backoff * 2);
            if (out.messages == 0 && backoff.count() == 0) backoff = std::chrono::milliseconds(1);
            backoff_timer.expires_after(waited);
            co_await backoff_timer.async_wait(use_tuple);
        }
    }
};

reconnecting_client::reconnecting_client(client_options opts, message_handler& handler,
                                         prometheus::Registry& metrics)
    : impl_(std::make_unique<impl>(std::move(opts), handler, metrics)) {}

reconnecting_client::~reconnecting_client() { stop(); }

void reconnecting_client::start() {
    std::lock_guard lk(impl_->start_mu);
    if (impl_->started || impl_->stopping || impl_->opts.urls.empty()) return;
    impl_->started = true;
    auto* d = impl_.get();
    d->watchdog_thread = std::thread([d] {
        name_this_thread("source-watch");
        d->watchdog();
    });
    d->thread = std::thread([d] {
        name_this_thread("source");
        asio::co_spawn(d->ioc, d->run(), [d](std::exception_ptr e) {
            if (!e) return;
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                log_.error("{}: source stopped by an unexpected error: {}", d->opts.kind, ex.what());
            }
        });
        d->ioc.run();
    });
}

void reconnecting_client::stop() {
    std::lock_guard lk(impl_->start_mu);
    auto* d = impl_.get();
    {
        std::lock_guard wl(d->wd_mu);
        if (d->stopping.exchange(true)) return;
    }
    d->wd_cv.notify_all();
    if (!d->started) return;
    {
        std::lock_guard fl(d->fd_mu);  // a synchronous read in progress: wake it up
        if (d->current_fd >= 0) ::shutdown(d->current_fd, SHUT_RDWR);
    }
    asio::post(d->ioc, [d] {  // an asynchronous phase (resolve, connect, handshake, backoff)
        if (d->cancel_current) d->cancel_current();
        d->backoff_timer.cancel();
    });
    if (d->thread.joinable()) d->thread.join();
    if (d->watchdog_thread.joinable()) d->watchdog_thread.join();
    d->connected.Set(0);
}

std::uint64_t reconnecting_client::connections() const { return impl_->connections.load(); }

}  // namespace labeler::pipeline::ws
