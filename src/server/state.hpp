#pragma once
// Internal to src/server: the state every session shares (server::state), the connection
// registry used for graceful shutdown, and `offload`, which runs blocking work (RocksDB) on
// the blocking pool and resumes the calling coroutine on its own strand.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <exception>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>
#include <unordered_map>

#include "src/common/log.hpp"
#include "src/server/hub.hpp"
#include "src/server/metrics.hpp"
#include "src/server/response_cache.hpp"
#include "src/server/server.hpp"

namespace labeler::server {

inline constexpr logger server_log{"server"};

// Anything the server must close on shutdown (HTTP sessions; WebSockets live in the hub).
class connection {
public:
    virtual ~connection() = default;
    virtual void shutdown() = 0;  // any thread; posts to the connection's strand
};

// Counts one open TCP connection for as long as it lives (server.max_connections). Moves with
// the socket from the HTTP session to the WebSocket session.
class connection_slot {
public:
    connection_slot() = default;
    explicit connection_slot(std::atomic<std::size_t>& open) : open_(&open) { open.fetch_add(1); }
    connection_slot(connection_slot&& o) noexcept : open_(std::exchange(o.open_, nullptr)) {}
    connection_slot& operator=(connection_slot&& o) noexcept {
        if (this != &o) {
            release();
            open_ = std::exchange(o.open_, nullptr);
        }
        return *this;
    }
    ~connection_slot() { release(); }

private:
    void release() {
        if (open_) open_->fetch_sub(1);
        open_ = nullptr;
    }
    std::atomic<std::size_t>* open_ = nullptr;
};

struct server::state {
    state(boost::asio::io_context& ioc, server_deps deps)
        : ioc(ioc), profile(deps.profile), store(deps.store), health(deps.health),
          metrics(deps.metrics), label_json(deps.profile.server.label_json_cache),
          query_cache(deps.profile.server.query_cache),
          pool(std::max(1u, deps.profile.server.threads)),
          publish_strand(boost::asio::make_strand(ioc)) {}

    boost::asio::io_context& ioc;
    const config::profile& profile;
    storage::label_store& store;
    labeler::health& health;
    server_metrics metrics;
    label_json_cache label_json;  // queryLabels: rendered labels by seq
    query_response_cache query_cache;  // queryLabels: whole bodies by query, at a last_seq
    hub subscribers;
    boost::asio::thread_pool pool;
    // Fan-out tasks run here, one at a time and in publish() order: with several I/O threads,
    // two batches must not reach a subscriber out of seq order.
    boost::asio::strand<boost::asio::io_context::executor_type> publish_strand;
    std::optional<boost::asio::ip::tcp::acceptor> acceptor;
    admin_handler admin;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    std::atomic<bool> stopping{false};
    std::atomic<std::size_t> open_connections{0};  // see connection_slot

    std::mutex conn_mu;
    std::unordered_map<const connection*, std::weak_ptr<connection>> conns;

    void add_connection(const std::shared_ptr<connection>& c) {
        std::lock_guard lk(conn_mu);
        conns[c.get()] = c;
    }
    void remove_connection(const connection* c) {
        std::lock_guard lk(conn_mu);
        conns.erase(c);
    }
};

// Runs f() on `pool` and completes on the awaiting coroutine's executor (its strand). An
// exception from f() is rethrown in the coroutine (never on a pool thread, which would end
// the process).
template <class F>
boost::asio::awaitable<std::invoke_result_t<F>> offload(boost::asio::thread_pool& pool, F f) {
    using R = std::invoke_result_t<F>;
    static_assert(std::is_default_constructible_v<R>, "offload: R stands in when f() throws");
    return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&,
                                       void(std::exception_ptr, R)>(
        [&pool](auto handler, F fn) {
            auto ex = boost::asio::get_associated_executor(handler);
            auto work = boost::asio::make_work_guard(ex);
            boost::asio::post(pool, [fn = std::move(fn), handler = std::move(handler),
                                     work = std::move(work)]() mutable {
                std::exception_ptr error;
                R r{};
                try {
                    r = fn();
                } catch (...) {
                    error = std::current_exception();
                }
                auto ex = work.get_executor();
                boost::asio::dispatch(ex, [handler = std::move(handler), error,
                                           r = std::move(r)]() mutable {
                    std::move(handler)(error, std::move(r));
                });
                work.reset();
            });
        },
        boost::asio::use_awaitable, std::move(f));
}

}  // namespace labeler::server
