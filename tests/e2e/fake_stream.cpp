#include "tests/e2e/fake_stream.hpp"
#include "src/common/thread_name.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

namespace labeler::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t batch_bytes = 256 * 1024;

std::optional<std::uint64_t> cursor_of(std::string_view target) {
    auto u = boost::urls::parse_origin_form(target);
    if (!u) return std::nullopt;
    auto it = u->params().find("cursor");
    if (it == u->params().end()) return std::nullopt;
    std::string v = (*it).value;
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || p != v.data() + v.size()) return std::nullopt;
    return n;
}

// {op:-1} + {error, message} in canonical DAG-CBOR.
std::string error_frame_bytes(std::string_view error, std::string_view message) {
    std::string out("\xa1\x62op\x20", 5);
    out.push_back(char(0xa2));
    auto text = [&](std::string_view s) {
        if (s.size() < 24) {
            out.push_back(char(0x60 + s.size()));
        } else {
            out.push_back(char(0x78));
            out.push_back(char(std::min<std::size_t>(s.size(), 255)));
            s = s.substr(0, 255);
        }
        out.append(s);
    };
    text("error");
    text(error);
    text("message");
    text(message);
    return out;
}
}  // namespace

void append_ws_frame(std::string& out, std::string_view payload, bool binary) {
    out.push_back(char(0x80 | (binary ? 0x2 : 0x1)));
    std::size_t n = payload.size();
    if (n < 126) {
        out.push_back(char(n));
    } else if (n < 65536) {
        out.push_back(char(126));
        out.push_back(char(n >> 8));
        out.push_back(char(n & 0xff));
    } else {
        out.push_back(char(127));
        for (int i = 7; i >= 0; --i) out.push_back(char((std::uint64_t(n) >> (8 * i)) & 0xff));
    }
    out.append(payload);
}

struct fake_stream_server::impl {
    options opts;
    mutable std::mutex mu;
    mutable std::condition_variable cv;
    std::vector<scripted_frame> script;       // guarded by mu
    std::size_t generated_count = 0;          // guarded by mu (generator mode when gen set)
    frame_generator gen;                      // guarded by mu
    std::vector<std::string> targets;         // guarded by mu
    std::vector<std::optional<std::uint64_t>> cursors;  // guarded by mu
    std::uint64_t frames_sent = 0;            // guarded by mu
    bool stopped = false;                     // guarded by mu
    std::set<beast::tcp_stream*> open;        // io thread only
    std::uint16_t port = 0;
    std::thread thread;
    std::optional<ssl::context> tls;          // set with options::tls; outlives the streams
    asio::io_context ioc{1};  // declared after the state the coroutine frames touch
    tcp::acceptor acceptor{ioc};
    asio::steady_timer wake{ioc};

    std::size_t size_locked() const { return gen ? generated_count : script.size(); }
    // Frame i (mu held). Generator frames are produced into `scratch`.
    const scripted_frame& at_locked(std::size_t i, scripted_frame& scratch) const {
        if (!gen) return script[i];
        gen(i, scratch);
        return scratch;
    }
    std::size_t start_index_locked(std::optional<std::uint64_t> cursor) const {
        if (!cursor) return 0;
        std::size_t lo = 0, hi = size_locked();
        scripted_frame scratch;
        while (lo < hi) {  // first frame whose key passes the cursor
            std::size_t mid = (lo + hi) / 2;
            std::uint64_t k = at_locked(mid, scratch).key;
            bool before = opts.mode == cursor_mode::inclusive ? k < *cursor : k <= *cursor;
            if (before) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, sock] = co_await acceptor.async_accept(use_tuple);
            if (ec) co_return;
            asio::co_spawn(ioc, serve(std::move(sock)), asio::detached);
        }
    }

    template <class Ws>
    asio::awaitable<void> finish(Ws& ws, std::string frames) {
        auto& s = ws.next_layer();
        auto& tcp_s = beast::get_lowest_layer(ws);
        tcp_s.expires_after(std::chrono::seconds(2));
        co_await asio::async_write(s, asio::buffer(frames), use_tuple);
        char sink[512];  // the peer's close frame or EOF (or the timeout), then close
        co_await s.async_read_some(asio::buffer(sink), use_tuple);
        beast::error_code ignored;
        tcp_s.socket().shutdown(tcp::socket::shutdown_both, ignored);
        tcp_s.socket().close(ignored);
    }

    asio::awaitable<void> serve(tcp::socket sock) {
        sock.set_option(tcp::no_delay(true));
        if (!tls) {
            websocket::stream<beast::tcp_stream> ws(std::move(sock));
            co_await serve_ws(ws);
            co_return;
        }
        websocket::stream<ssl::stream<beast::tcp_stream>> ws(std::move(sock), *tls);
        beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(10));
        auto [hec] = co_await ws.next_layer().async_handshake(ssl::stream_base::server, use_tuple);
        if (hec) co_return;  // e.g. the client refused the certificate
        co_await serve_ws(ws);
    }

    // The WebSocket protocol over `ws`, plain or TLS (handshake done): upgrade, then the script.
    template <class Ws>
    asio::awaitable<void> serve_ws(Ws& ws) {
        auto& tcp_s = beast::get_lowest_layer(ws);
        beast::flat_buffer b;
        http::request<http::string_body> req;
        tcp_s.expires_after(std::chrono::seconds(10));
        auto [rec, _] = co_await http::async_read(ws.next_layer(), b, req, use_tuple);
        if (rec || !websocket::is_upgrade(req)) co_return;
        tcp_s.expires_never();
        std::string target(req.target());
        auto cursor = cursor_of(target);
        auto [aec] = co_await ws.async_accept(req, use_tuple);
        if (aec) co_return;
        std::size_t conn_index = 0, next = 0;
        bool future = false;
        {
            std::lock_guard lk(mu);
            conn_index = targets.size();
            targets.push_back(target);
            cursors.push_back(cursor);
            next = start_index_locked(cursor);
            if (opts.mode == cursor_mode::exclusive_or_future && cursor) {
                scripted_frame scratch;
                std::size_t n = size_locked();
                std::uint64_t last = n ? at_locked(n - 1, scratch).key : 0;
                future = *cursor > last;
            }
        }
        cv.notify_all();
        open.insert(&tcp_s);
        struct unregister {
            impl* self;
            beast::tcp_stream* s;
            ~unregister() { self->open.erase(s); }
        } guard{this, &tcp_s};

        if (future) {
            std::string frames;
            append_ws_frame(frames, error_frame_bytes("FutureCursor", "Cursor in the future."),
                            true);
            frames.append("\x88\x02\x03\xf0", 4);  // close 1008 (policy)
            co_await finish(ws, std::move(frames));
            co_return;
        }
        const std::size_t limit = conn_index < opts.drop_after.size()
                                      ? opts.drop_after[conn_index]
                                      : std::numeric_limits<std::size_t>::max();
        std::size_t sent = 0;
        std::string batch;
        batch.reserve(batch_bytes + 64 * 1024);
        scripted_frame scratch;
        for (;;) {
            batch.clear();
            std::size_t count = 0;
            bool at_end = false;
            {
                std::lock_guard lk(mu);
                if (stopped) co_return;
                std::size_t n = size_locked();
                while (next < n && batch.size() < batch_bytes && sent + count < limit) {
                    const auto& f = at_locked(next, scratch);
                    append_ws_frame(batch, f.payload, f.binary);
                    ++next;
                    ++count;
                }
                at_end = next >= n;
            }
            if (count) {
                auto [wec, wn] =
                    co_await asio::async_write(ws.next_layer(), asio::buffer(batch), use_tuple);
                if (wec) co_return;
                sent += count;
                {
                    std::lock_guard lk(mu);
                    frames_sent += count;
                }
                cv.notify_all();
            }
            if (sent >= limit) {  // cut the connection mid-stream
                beast::error_code ignored;
                tcp_s.socket().shutdown(tcp::socket::shutdown_both, ignored);
                tcp_s.socket().close(ignored);
                co_return;
            }
            // After a write, look at the script again before waiting: a push() during the
            // write posted its wake-up while nothing was waiting, so it would be lost.
            if (count || !at_end) continue;
            if (opts.close_at_end) {
                co_await finish(ws, std::string("\x88\x02\x03\xe8", 4));  // close 1000
                co_return;
            }
            if (!tcp_s.socket().is_open()) co_return;
            co_await wake.async_wait(use_tuple);  // push(), drop_all() or stop()
            if (!tcp_s.socket().is_open()) co_return;
        }
    }

    void wake_all() {
        asio::post(ioc, [this] { wake.cancel(); });
    }
};

fake_stream_server::fake_stream_server(options opts) : impl_(std::make_shared<impl>()) {
    impl_->opts = std::move(opts);
    if (auto& id = impl_->opts.tls) {
        auto& ctx = impl_->tls.emplace(ssl::context::tls_server);
        ctx.use_certificate_chain(asio::buffer(id->cert_chain_pem));
        ctx.use_private_key(asio::buffer(id->key_pem), ssl::context::pem);
    }
    auto& a = impl_->acceptor;
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    a.open(ep.protocol());
    a.set_option(tcp::acceptor::reuse_address(true));
    a.bind(ep);
    a.listen();
    impl_->port = a.local_endpoint().port();
    impl_->wake.expires_at(asio::steady_timer::time_point::max());
    auto* d = impl_.get();
    asio::co_spawn(d->ioc, d->accept_loop(), asio::detached);
    d->thread = std::thread([d] {
        name_this_thread("fake-stream");
        d->ioc.run();
    });
}

fake_stream_server::~fake_stream_server() { stop(); }

void fake_stream_server::push(scripted_frame f) {
    {
        std::lock_guard lk(impl_->mu);
        impl_->script.push_back(std::move(f));
    }
    impl_->wake_all();
}

void fake_stream_server::push(std::vector<scripted_frame> frames) {
    {
        std::lock_guard lk(impl_->mu);
        for (auto& f : frames) impl_->script.push_back(std::move(f));
    }
    impl_->wake_all();
}

void fake_stream_server::set_generator(std::size_t count, frame_generator gen) {
    {
        std::lock_guard lk(impl_->mu);
        impl_->gen = std::move(gen);
        impl_->generated_count = count;
    }
    impl_->wake_all();
}

void fake_stream_server::drop_all() {
    auto* d = impl_.get();
    asio::post(d->ioc, [d] {
        for (auto* s : d->open) {
            beast::error_code ignored;
            s->socket().shutdown(tcp::socket::shutdown_both, ignored);
            s->socket().close(ignored);
        }
        d->wake.cancel();
    });
}

void fake_stream_server::stop() {
    auto* d = impl_.get();
    {
        std::lock_guard lk(d->mu);
        if (d->stopped) return;
        d->stopped = true;
    }
    d->ioc.stop();
    if (d->thread.joinable()) d->thread.join();
    d->cv.notify_all();
}

std::uint16_t fake_stream_server::port() const { return impl_->port; }

std::string fake_stream_server::url(std::string_view host) const {
    return (impl_->tls ? "wss://" : "ws://") + std::string(host) + ":" +
           std::to_string(impl_->port) + impl_->opts.path;
}

std::vector<std::string> fake_stream_server::targets() const {
    std::lock_guard lk(impl_->mu);
    return impl_->targets;
}

std::vector<std::optional<std::uint64_t>> fake_stream_server::cursors() const {
    std::lock_guard lk(impl_->mu);
    return impl_->cursors;
}

std::size_t fake_stream_server::connections() const {
    std::lock_guard lk(impl_->mu);
    return impl_->targets.size();
}

std::uint64_t fake_stream_server::frames_sent() const {
    std::lock_guard lk(impl_->mu);
    return impl_->frames_sent;
}

bool fake_stream_server::wait_connections(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lk(impl_->mu);
    return impl_->cv.wait_for(lk, timeout, [&] { return impl_->targets.size() >= n; });
}

bool fake_stream_server::wait_frames_sent(std::uint64_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lk(impl_->mu);
    return impl_->cv.wait_for(lk, timeout, [&] { return impl_->frames_sent >= n; });
}

}  // namespace labeler::testing
