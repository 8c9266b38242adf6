// subscribeLabels sessions: RFC 6455 framing on a plain socket (see wsproto.hpp for why not
// Beast's websocket::stream). http.cpp has already answered the upgrade with 101.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <deque>
#include <exception>
#include <vector>

#include "src/server/frames.hpp"
#include "src/server/query.hpp"
#include "src/server/sessions.hpp"
#include "src/server/wsproto.hpp"

namespace labeler::server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using asio::awaitable;
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

namespace {

constexpr std::size_t replay_page = 1000;            // log entries per store read
constexpr std::size_t replay_high_water = 512 * 1024;  // buffered bytes before replay waits
constexpr std::size_t max_client_message = 64 * 1024;

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
//   buffering: registered with the hub; live batches collect in pending_ while the cursor
//              check and the replay (pages of read_log on the blocking pool) run;
//   live:      live batches are queued for writing;
//   closing:   an error and/or close frame is queued; everything else is dropped.
// Output is a queue of segments: byte ranges of shared live batches (never copied), encoded
// replay pages, and control frames. One async_write at a time gathers the queue (writev), so
// a burst costs a syscall per drain, not per frame.
// The live backlog (label frames queued or being written) is bounded by
// server.subscriber_queue_frames: overflow sends ConsumerTooSlow and closes with 1008. During
// replay the backlog is paced by the writes instead; if pending_ overflows it is dropped and
// the replay reads further in the log (every published frame was committed first), so a long
// replay is never cut short by live traffic.
class ws_session : public subscriber, public std::enable_shared_from_this<ws_session> {
public:
    ws_session(server::state& st, tcp::socket socket, std::string handshake, std::string leftover,
               connection_slot slot)
        : st_(st), slot_(std::move(slot)), sock_(std::move(socket)), ping_timer_(sock_.get_executor()),
          force_close_(sock_.get_executor()), wake_(sock_.get_executor()),
          reader_(max_client_message), handshake_(std::move(handshake)), in_(std::move(leftover)),
          limit_(std::max<std::size_t>(1, st.profile.server.subscriber_queue_frames)) {}

    ~ws_session() override { st_.metrics.connection_closed(); }

    void deliver(frame_batch batch) override {
        asio::post(sock_.get_executor(), [self = shared_from_this(), batch = std::move(batch)] {
            self->on_frames(batch);
        });
    }

    void shutdown() override {
        asio::post(sock_.get_executor(), [self = shared_from_this()] {
            self->queue_close(ws::close_going_away, "server shutting down", {});
        });
    }

    awaitable<void> run(std::string target) {
        st_.metrics.connection_opened();
        auto self = shared_from_this();
        auto cursor = parse_cursor(target);
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
        // The 101 goes out only now that the hub delivers to this session: a client that has
        // read it misses no label committed afterwards. It is the first segment written (the
        // write starts here, so a close queued below cannot drop it).
        queue_owned(std::move(handshake_), 0);
        flush();

        arm_ping();
        if (!registered) {
            queue_close(ws::close_going_away, "server shutting down", {});
        } else if (!cursor) {
            fail_with("InvalidRequest", "Error: " + cursor.error().message);
        } else if (*cursor) {
            std::uint64_t after = **cursor;
            auto work = [this] { return st_.store.last_seq(); };
            auto op = offload(st_.pool, std::move(work));
            std::uint64_t last = co_await std::move(op);
            if (after > last) {
                fail_with("FutureCursor", "Cursor in the future.");
            } else if (mode_ != mode::closing) {
                // Replay runs as its own coroutine so the read loop keeps answering pings.
                asio::co_spawn(sock_.get_executor(), replay(after),
                               [self](std::exception_ptr e) {
                                   if (e) self->queue_close(ws::close_internal_error,
                                                            "InternalServerError", {});
                               });
            }
        } else {
            go_live();
        }
        co_await read_loop();
    }

private:
    // Reads client frames: answers pings, completes the closing handshake, discards messages.
    awaitable<void> read_loop() {
        std::vector<ws::event> events;
        char chunk[16 * 1024];
        for (;;) {
            std::size_t used = reader_.feed(
                {reinterpret_cast<const std::uint8_t*>(in_.data()), in_.size()}, events);
            in_.erase(0, used);
            for (auto& ev : events) on_event(ev);
            events.clear();
            if (reader_.done() || finished_) break;
            auto [ec, n] = co_await sock_.async_read_some(asio::buffer(chunk), as_tuple_awaitable);
            if (ec) {
                close_socket();
                break;
            }
            received_ = true;
            in_.append(chunk, n);
        }
    }

    void on_event(const ws::event& ev) {
        using kind = ws::event::kind;
        switch (ev.k) {
        case kind::message:
        case kind::pong:
            break;
        case kind::ping:
            if (!close_queued_) queue_control(ws::opcode::pong, ev.payload);
            break;
        case kind::close:
            peer_closed_ = true;
            if (close_queued_) {
                if (!writing_ && out_.empty()) close_socket();  // else on_write closes
            } else {
                // Echo the peer's code (RFC 6455 §5.5.1), then close the TCP connection.
                std::uint16_t code = ev.code == 1005 ? ws::close_normal : ev.code;
                queue_close(code, "", {});
            }
            break;
        case kind::error:
            server_log.debug("subscribeLabels: closing on a protocol error: {}", ev.payload);
            peer_closed_ = true;  // no longer reading: close once our close frame is out
            if (close_queued_ && !writing_ && out_.empty()) close_socket();  // already sent
            else queue_close(ev.code, ev.payload, {});
            break;
        }
    }

    awaitable<void> replay(std::uint64_t after) {
        auto self = shared_from_this();
        // Frames up to the cursor were seen by the client: held live frames at or below it
        // (committed before the cursor was read, delivered after registration) are not sent.
        last_queued_ = after;
        start_fetch(after);
        for (;;) {
            while (!fetched_ && !stopped()) co_await wait_wake();
            if (stopped()) co_return;
            auto page = std::move(*fetched_);
            fetched_.reset();
            if (!page) {
                server_log.warn("subscribeLabels replay: {}", page.error().message);
                fail_with("InternalServerError", "the label store failed");
                co_return;
            }
            if (page->empty()) {
                // Caught up, unless pending_ overflowed after this read began: then the frames
                // it dropped are in the log beyond what this read saw, so read again.
                if (fetch_epoch_ != overflow_epoch_) {
                    start_fetch(after);
                    continue;
                }
                break;
            }
            std::string bytes;
            std::size_t total = 0;
            for (auto& e : *page) total += e.cbor.size() + 48;
            bytes.reserve(total);
            for (auto& e : *page) append_labels_wire(bytes, e);
            queue_owned(std::move(bytes), page->size());
            after = last_queued_ = page->back().seq;
            flush();
            start_fetch(after);  // the next page is read while this one is written
            while (buffered_bytes() > replay_high_water && !stopped()) co_await wait_wake();
        }
        go_live();
    }

    void start_fetch(std::uint64_t after) {
        fetch_epoch_ = overflow_epoch_;
        asio::post(st_.pool, [self = shared_from_this(), after] {
            result<std::vector<storage::log_entry>> page = std::vector<storage::log_entry>{};
            try {
                page = self->st_.store.read_log(after, replay_page);
            } catch (const std::exception& e) {
                page = fail(std::string("reading the log: ") + e.what());
            }
            asio::post(self->sock_.get_executor(),
                       [self, page = std::move(page)]() mutable {
                           self->fetched_.emplace(std::move(page));
                           self->wake();
                       });
        });
    }

    void go_live() {
        if (mode_ != mode::buffering) return;
        mode_ = mode::live;
        auto held = std::move(pending_);
        pending_.clear();
        pending_frames_ = 0;
        for (auto& b : held) queue_live(b);
        check_backlog();
    }

    void on_frames(const frame_batch& batch) {
        if (mode_ == mode::closing) return;
        if (mode_ == mode::buffering) {
            pending_.push_back(batch);
            pending_frames_ += batch->size();
            if (pending_frames_ > limit_) {
                pending_.clear();
                pending_frames_ = 0;
                ++overflow_epoch_;
            }
            return;
        }
        queue_live(batch);
        check_backlog();
    }

    // Queues the frames of `b` after last_queued_ (a batch is in seq order, so a prefix).
    void queue_live(const frame_batch& b) {
        if (b->size() == 0 || b->seqs.back() <= last_queued_) return;
        auto first = std::size_t(
            std::upper_bound(b->seqs.begin(), b->seqs.end(), last_queued_) - b->seqs.begin());
        std::string_view bytes(b->wire);
        const std::size_t n = b->size() - first;
        out_.push_back({b, bytes.substr(b->offsets[first]), n, true, false, false});
        out_frames_ += n;
        live_backlog_ += n;
        out_bytes_ += out_.back().bytes.size();
        last_queued_ = b->seqs.back();
    }

    void check_backlog() {
        if (live_backlog_ > limit_) {
            st_.metrics.slow_consumer_dropped();
            fail_with("ConsumerTooSlow", "Stream consumer too slow");
            return;
        }
        flush();
    }

    // Queues bytes this session owns (a replay page, a control frame).
    void queue_owned(std::string bytes, std::size_t frames, bool close = false,
                     bool pong = false) {
        auto owned = std::make_shared<const std::string>(std::move(bytes));
        std::string_view view(*owned);
        out_bytes_ += view.size();
        out_frames_ += frames;
        out_.push_back({std::move(owned), view, frames, false, close, pong});
    }

    void queue_control(ws::opcode op, std::string_view payload) {
        std::string f;
        ws::append_frame(f, op, payload);
        if (op == ws::opcode::pong) {
            // At most one pong waits: a newer ping replaces its payload (RFC 6455 §5.5.3
            // allows answering only the latest), so a client that pings without reading
            // cannot grow our memory.
            for (auto& seg : out_)
                if (seg.pong) {
                    auto owned = std::make_shared<const std::string>(std::move(f));
                    out_bytes_ = out_bytes_ - seg.bytes.size() + owned->size();
                    seg.bytes = *owned;
                    seg.owner = std::move(owned);
                    return;
                }
            queue_owned(std::move(f), 0, false, true);
        } else {
            queue_owned(std::move(f), 0);
        }
        flush();
    }

    // Sends an error frame and closes with 1008 (reason = the error name).
    void fail_with(const char* error, std::string_view message) {
        st_.metrics.ws_rejected(error);
        queue_close(ws::close_policy_error, error, encode_error_frame(error, message));
    }

    // Drops every unsent frame (a write in flight completes), then queues the optional error
    // frame and the close frame. A peer that never reads would hold the close forever, so a
    // timer forces the socket closed.
    void queue_close(std::uint16_t code, std::string_view reason, std::string error_payload) {
        if (close_queued_ || finished_) return;
        close_queued_ = true;
        mode_ = mode::closing;
        pending_.clear();
        pending_frames_ = 0;
        out_.clear();
        out_frames_ = 0;
        out_bytes_ = 0;
        live_backlog_ = sending_live_;
        std::string last;
        if (!error_payload.empty()) ws::append_frame(last, ws::opcode::binary, error_payload);
        ws::append_frame(last, ws::opcode::close, ws::close_payload(code, reason));
        queue_owned(std::move(last), 0, true);
        force_close_.expires_after(std::chrono::seconds(5));
        force_close_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (!ec) self->close_socket();
        });
        wake();
        flush();
    }

    void flush() {
        if (writing_ || finished_ || out_.empty()) return;
        buffers_.clear();
        sending_close_ = false;
        // asio's writev takes at most 64 buffers per call; a larger gather would only loop.
        while (!out_.empty() && sending_.size() < 64) {
            auto& seg = out_.front();
            buffers_.emplace_back(seg.bytes.data(), seg.bytes.size());
            sending_frames_ += seg.frames;
            if (seg.live) sending_live_ += seg.frames;
            sending_bytes_ += seg.bytes.size();
            sending_close_ = sending_close_ || seg.close;
            out_frames_ -= seg.frames;
            out_bytes_ -= seg.bytes.size();
            sending_.push_back(std::move(seg));
            out_.pop_front();
        }
        writing_ = true;
        asio::async_write(sock_, buffers_,
                          [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                              self->on_write(ec);
                          });
    }

    void on_write(boost::system::error_code ec) {
        writing_ = false;
        if (ec) {
            close_socket();
            return;
        }
        if (sending_frames_) st_.metrics.frames_sent(sending_frames_);
        sending_frames_ = 0;
        live_backlog_ -= sending_live_;
        sending_live_ = 0;
        sending_bytes_ = 0;
        sending_.clear();
        if (sending_close_ && peer_closed_) {
            close_socket();
            return;
        }
        flush();
        wake();
    }

    void close_socket() {
        if (finished_) return;
        finished_ = true;
        mode_ = mode::closing;
        boost::system::error_code ignored;
        sock_.shutdown(tcp::socket::shutdown_both, ignored);
        sock_.close(ignored);
        ping_timer_.cancel();
        force_close_.cancel();
        wake();
        pending_.clear();
        out_.clear();
    }

    // Beast's keep-alive semantics: with nothing received for half the interval, send a ping;
    // with nothing received for the whole interval, drop the connection.
    void arm_ping() {
        auto half = std::max<std::chrono::milliseconds>(std::chrono::milliseconds(1),
                                                        st_.profile.server.ws_ping_interval / 2);
        ping_timer_.expires_after(half);
        ping_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (ec || self->finished_) return;
            if (self->received_) {
                self->received_ = false;
                self->ping_outstanding_ = false;
            } else if (!self->ping_outstanding_) {
                self->ping_outstanding_ = true;
                if (!self->close_queued_) self->queue_control(ws::opcode::ping, "");
            } else {
                server_log.debug("subscribeLabels: idle client timed out");
                self->close_socket();
                return;
            }
            self->arm_ping();
        });
    }

    bool stopped() const { return mode_ == mode::closing || finished_; }
    std::size_t buffered_bytes() const { return out_bytes_ + sending_bytes_; }
    void wake() { wake_.cancel(); }
    awaitable<void> wait_wake() {
        wake_.expires_at(asio::steady_timer::time_point::max());
        co_await wake_.async_wait(as_tuple_awaitable);
    }

    enum class mode { buffering, live, closing };

    server::state& st_;
    connection_slot slot_;
    tcp::socket sock_;
    asio::steady_timer ping_timer_;
    asio::steady_timer force_close_;
    asio::steady_timer wake_;  // wakes the replay coroutine (a fetched page, buffer space, close)
    ws::client_reader reader_;
    std::string handshake_;
    std::string in_;
    std::size_t limit_;
    mode mode_ = mode::buffering;

    std::vector<frame_batch> pending_;
    std::size_t pending_frames_ = 0;
    std::uint64_t overflow_epoch_ = 0;  // bumped whenever pending_ is dropped
    std::uint64_t fetch_epoch_ = 0;     // overflow_epoch_ when the current read began
    std::optional<result<std::vector<storage::log_entry>>> fetched_;

    // A byte range to write, kept alive by its owner (a shared live batch or an owned string).
    struct segment {
        std::shared_ptr<const void> owner;
        std::string_view bytes;
        std::size_t frames = 0;  // label frames in it
        bool live = false;       // live frames: they count against subscriber_queue_frames
        bool close = false;      // ends with our close frame
        bool pong = false;       // a pong not yet being written (replaced by a newer one)
    };
    std::deque<segment> out_;        // queued
    std::vector<segment> sending_;   // being written
    std::vector<asio::const_buffer> buffers_;
    std::size_t out_frames_ = 0, sending_frames_ = 0;
    std::size_t live_backlog_ = 0;  // live frames queued or being written
    std::size_t sending_live_ = 0;  // of which being written
    std::size_t out_bytes_ = 0, sending_bytes_ = 0;
    std::uint64_t last_queued_ = 0;  // highest seq queued for writing
    bool sending_close_ = false;
    bool writing_ = false;
    bool close_queued_ = false;
    bool peer_closed_ = false;  // the peer's close arrived, or we stopped reading
    bool finished_ = false;     // socket closed
    bool received_ = false;
    bool ping_outstanding_ = false;
};

}  // namespace

void start_subscribe_session(server::state& st, tcp::socket socket, std::string target,
                             std::string handshake, std::string leftover, connection_slot slot) {
    auto ex = socket.get_executor();
    auto session = std::make_shared<ws_session>(st, std::move(socket), std::move(handshake),
                                                std::move(leftover), std::move(slot));
    asio::co_spawn(ex, session->run(std::move(target)), [session](std::exception_ptr e) {
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
