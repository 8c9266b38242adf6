// subscribeLabels sessions. Beast's WebSocket templates live only here.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <deque>
#include <exception>

#include "src/server/frames.hpp"
#include "src/server/query.hpp"
#include "src/server/sessions.hpp"

namespace labeler::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using asio::awaitable;
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

namespace {

constexpr std::size_t replay_page = 1000;

// Parses `cursor` from the request target: nullopt = absent (live only), error = malformed.
result<std::optional<std::uint64_t>> parse_cursor(std::string_view target) {
    auto q = target.find('?');
    if (q == std::string_view::npos) return std::optional<std::uint64_t>{};
    auto query = target.substr(q + 1);
    auto params = parse_query_string(query);
    if (!params) return params.error();
    std::optional<std::uint64_t> out;
    for (auto& [key, v] : *params) {
        if (key != "cursor") continue;
        if (out) return fail("cursor given more than once");
        if (v.empty() || v.size() > 19 ||
            v.find_first_not_of("0123456789") != std::string::npos)
            return fail("cursor must be a non-negative decimal integer");
        out = std::stoull(v);
    }
    return out;
}

// One subscriber. Runs on its own strand (the socket's executor); holds no mutex.
//   buffering: registered with the hub, live frames collect in pending_ while the handshake
//              and the replay (pages of read_log on the blocking pool) run;
//   live:      frames go to queue_ and a write chain drains it;
//   closing:   an error or close frame is (being) sent; everything else is dropped.
// queue_/pending_ are bounded by server.subscriber_queue_frames: overflow sends ConsumerTooSlow
// and closes with 1008 (a deadline timer forces the socket closed if the peer never reads).
class ws_session : public subscriber, public std::enable_shared_from_this<ws_session> {
public:
    ws_session(server::state& st, beast::tcp_stream stream)
        : st_(st), ws_(std::move(stream)), force_close_(ws_.get_executor()),
          limit_(std::max<std::size_t>(1, st.profile.server.subscriber_queue_frames)) {}

    ~ws_session() override { st_.metrics.connection_closed(); }

    void deliver(frame_batch batch) override {
        asio::post(ws_.get_executor(), [self = shared_from_this(), batch = std::move(batch)] {
            self->on_frames(*batch);
        });
    }

    void shutdown() override {
        asio::post(ws_.get_executor(), [self = shared_from_this()] {
            self->begin_close(websocket::close_code::going_away, "server shutting down", {});
        });
    }

    awaitable<void> run(http::request<http::string_body> req) {
        st_.metrics.connection_opened();
        auto self = shared_from_this();
        auto cursor = parse_cursor(req.target());
        bool registered = st_.subscribers.add(self);
        if (registered) st_.metrics.subscriber_added();
        struct guard {
            ws_session* s;
            bool reg;
            ~guard() {
                if (!reg) return;
                s->st_.subscribers.remove(s);
                s->st_.metrics.subscriber_removed();
            }
        } g{this, registered};

        // Nagle on for the stream: a burst of small frames then leaves in full segments
        // instead of one packet per frame (measured: several times the frame rate on loopback).
        beast::error_code nd;
        beast::get_lowest_layer(ws_).socket().set_option(asio::ip::tcp::no_delay(false), nd);
        websocket::stream_base::timeout opt{};
        opt.handshake_timeout = std::chrono::seconds(10);
        opt.idle_timeout = st_.profile.server.ws_ping_interval;
        opt.keep_alive_pings = true;
        ws_.set_option(opt);
        websocket::permessage_deflate pmd;
        pmd.server_enable = false;
        pmd.client_enable = false;
        ws_.set_option(pmd);
        ws_.read_message_max(64 * 1024);
        ws_.binary(true);
        ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
            res.set(http::field::server, "random-labeler");
        }));

        auto [aec] = co_await ws_.async_accept(req, as_tuple_awaitable);
        if (aec) co_return;
        accepted_ = true;
        if (!registered) {
            begin_close(websocket::close_code::going_away, "server shutting down", {});
            co_await read_loop();
            co_return;
        }
        if (!cursor) {
            fail_with("InvalidRequest", "Error: " + cursor.error().message);
        } else if (*cursor) {
            std::uint64_t after = **cursor;
            auto work = [this] { return st_.store.last_seq(); };
            auto op = offload(st_.pool, std::move(work));
            std::uint64_t last = co_await std::move(op);
            if (after > last) {
                fail_with("FutureCursor", "Cursor in the future.");
            } else {
                // Replay runs as its own coroutine so the read loop keeps answering pings.
                asio::co_spawn(ws_.get_executor(), replay(after),
                               [self](std::exception_ptr e) {
                                   if (e) self->begin_close(websocket::close_code::internal_error,
                                                            "InternalServerError", {});
                               });
            }
        } else {
            go_live();
        }
        co_await read_loop();
    }

private:
    // Reads (and discards) client messages; Beast answers pings and closes on idle timeout.
    awaitable<void> read_loop() {
        beast::flat_buffer buf;
        for (;;) {
            auto [ec, n] = co_await ws_.async_read(buf, as_tuple_awaitable);
            if (ec) break;
            buf.consume(buf.size());
        }
        finished_ = true;
        mode_ = mode::closing;
        queue_.clear();
        pending_.clear();
        force_close_.cancel();
    }

    awaitable<void> replay(std::uint64_t after) {
        auto self = shared_from_this();
        writing_ = true;  // the replay owns the writer until it hands over to the queue
        for (;;) {
            auto work = [this, after] { return st_.store.read_log(after, replay_page); };
            auto op = offload(st_.pool, std::move(work));
            auto page = co_await std::move(op);
            if (mode_ == mode::closing || finished_) break;
            if (!page) {
                server_log.warn("subscribeLabels replay: {}", page.error().message);
                writing_ = false;
                fail_with("InternalServerError", "the label store failed");
                co_return;
            }
            if (page->empty()) break;
            std::string bytes;
            for (auto& e : *page) {
                bytes = encode_labels_frame(e);
                auto [ec, n] = co_await ws_.async_write(asio::buffer(bytes), as_tuple_awaitable);
                if (ec) mode_ = mode::closing;
                if (mode_ == mode::closing) break;
                last_sent_ = e.seq;
                st_.metrics.frame_sent();
            }
            if (mode_ == mode::closing || finished_) break;
            after = page->back().seq;
            if (page->size() < replay_page) {
                // Maybe caught up; one more read confirms (and picks up what just committed).
                continue;
            }
        }
        writing_ = false;
        if (mode_ == mode::closing) {
            do_write();  // sends the queued error/close, if any
            co_return;
        }
        go_live();
    }

    void go_live() {
        mode_ = mode::live;
        for (auto& f : pending_)
            if (f->seq > last_sent_) queue_.push_back(std::move(f));
        pending_.clear();
        do_write();
    }

    void on_frames(const std::vector<frame_ptr>& frames) {
        if (mode_ == mode::closing) return;
        auto& q = mode_ == mode::live ? queue_ : pending_;
        for (auto& f : frames) {
            if (mode_ == mode::live && f->seq <= last_sent_) continue;
            q.push_back(f);
        }
        if (q.size() > limit_) {
            st_.metrics.slow_consumer_dropped();
            fail_with("ConsumerTooSlow", "Stream consumer too slow");
            return;
        }
        if (mode_ == mode::live) do_write();
    }

    // Sends an error frame and closes with 1008 (reason = the error name).
    void fail_with(const char* error, std::string message) {
        st_.metrics.ws_rejected(error);
        auto f = std::make_shared<const frame>(frame{0, encode_error_frame(error, message)});
        begin_close(websocket::close_code::policy_error, error, std::move(f));
    }

    void begin_close(websocket::close_code code, std::string reason, frame_ptr last) {
        if (mode_ == mode::closing || finished_) return;
        mode_ = mode::closing;
        pending_.clear();
        // Keep a frame whose write is in flight; drop everything else.
        if (writing_ && !queue_.empty()) {
            auto front = queue_.front();
            queue_.clear();
            queue_.push_back(std::move(front));
        } else {
            queue_.clear();
        }
        if (last) queue_.push_back(std::move(last));
        close_reason_ = websocket::close_reason(code, reason);
        close_pending_ = true;
        // A peer that never reads would hold the close forever: bound it.
        force_close_.expires_after(std::chrono::seconds(5));
        force_close_.async_wait([self = shared_from_this()](beast::error_code ec) {
            if (ec) return;
            beast::error_code ignored;
            beast::get_lowest_layer(self->ws_).socket().close(ignored);
        });
        if (accepted_) do_write();
    }

    void do_write() {
        if (writing_ || finished_) return;
        if (queue_.empty()) {
            if (close_pending_) {
                close_pending_ = false;
                writing_ = true;
                ws_.async_close(close_reason_, [self = shared_from_this()](beast::error_code) {
                    self->writing_ = false;
                });
            }
            return;
        }
        writing_ = true;
        ws_.async_write(asio::buffer(queue_.front()->bytes),
                        [self = shared_from_this()](beast::error_code ec, std::size_t) {
                            self->on_write(ec);
                        });
    }

    void on_write(beast::error_code ec) {
        writing_ = false;
        if (ec) {
            queue_.clear();
            close_pending_ = false;
            mode_ = mode::closing;
            return;
        }
        if (!queue_.empty()) {
            if (queue_.front()->seq) {
                last_sent_ = queue_.front()->seq;
                st_.metrics.frame_sent();
            }
            queue_.pop_front();
        }
        do_write();
    }

    enum class mode { buffering, live, closing };

    server::state& st_;
    websocket::stream<beast::tcp_stream> ws_;
    asio::steady_timer force_close_;
    std::size_t limit_;
    mode mode_ = mode::buffering;
    std::deque<frame_ptr> queue_;
    std::deque<frame_ptr> pending_;
    std::uint64_t last_sent_ = 0;
    bool writing_ = false;
    bool accepted_ = false;
    bool finished_ = false;
    bool close_pending_ = false;
    websocket::close_reason close_reason_;
};

}  // namespace

void start_subscribe_session(server::state& st, beast::tcp_stream stream,
                             http::request<http::string_body> req) {
    auto ex = stream.get_executor();
    auto session = std::make_shared<ws_session>(st, std::move(stream));
    asio::co_spawn(ex, session->run(std::move(req)), [session](std::exception_ptr e) {
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            server_log.error("subscribeLabels session: unexpected exception: {}", ex.what());
        } catch (...) {
            server_log.error("subscribeLabels session: unexpected exception");
        }
    });
}

}  // namespace labeler::server
