// The `run` command: the real wiring of store, server and pipeline (see run.hpp).
#include "src/app/run.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <prometheus/registry.h>

#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "pipeline/pipeline.hpp"
#include "src/atproto/crypto.hpp"
#include "src/common/health.hpp"
#include "src/common/log.hpp"
#include "src/common/thread_name.hpp"
#include "src/server/server.hpp"
#include "storage/label_store.hpp"

namespace labeler::app {

namespace {
constexpr logger run_log{"run"};
constexpr auto shutdown_grace = std::chrono::seconds(10);

int startup_error(const std::string& message) {
    std::fprintf(stderr, "random-labeler run: %s\n", message.c_str());
    return 1;
}
}  // namespace

int run(const config::profile& profile, std::optional<std::uint64_t> cursor) {
    set_log_level(profile.log_level);
    auto key = atproto::private_key::load_file(profile.signing_key_file);
    if (!key) return startup_error(key.error().message);

    prometheus::Registry registry;
    labeler::health health;

    storage::store_options so;
    so.path = profile.storage.path;
    so.expected = {profile.environment, profile.labeler_did, key->did_key()};
    so.sync = profile.storage.sync == config::storage_config::sync_mode::batch
                  ? storage::store_options::sync_mode::every_batch
                  : storage::store_options::sync_mode::interval;
    so.sync_interval = profile.storage.sync_interval;
    auto opened = storage::label_store::open(so, &registry);
    if (!opened) return startup_error(opened.error().message);
    std::unique_ptr<storage::label_store> store = std::move(*opened);
    health.set_store_open(true);

    const unsigned threads = std::max(1u, profile.server.threads);
    auto ioc = std::make_unique<boost::asio::io_context>(int(threads));
    server::server srv(*ioc, {profile, *store, registry, health});
    auto bound = srv.listen();
    if (!bound) return startup_error(bound.error().message);

    pipeline::pipeline pipe({profile, *store, srv, *key, registry, health}, cursor);

    std::promise<int> signalled;
    boost::asio::signal_set signals(*ioc, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        run_log.info("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        srv.stop();  // stop accepting, close WebSockets with a close frame
        signalled.set_value(sig);
    });

    std::mutex mu;
    std::condition_variable cv;
    unsigned running = threads;
    std::vector<std::thread> io_threads;
    for (unsigned i = 0; i < threads; ++i) {
        io_threads.emplace_back([&] {
            name_this_thread("io");
            try {
                ioc->run();
            } catch (const std::exception& e) {
                run_log.error("io thread: unexpected exception: {}", e.what());
            }
            std::lock_guard lk(mu);
            --running;
            cv.notify_all();
        });
    }
    pipe.start();
    run_log.info("running: environment {}, labeler {}, {} network thread(s)", profile.environment,
                 profile.labeler_did, threads);

    signalled.get_future().wait();
    pipe.stop();  // drains and commits what was decoded; publishes go nowhere now
    {
        std::unique_lock lk(mu);
        if (!cv.wait_for(lk, shutdown_grace, [&] { return running == 0; })) {
            run_log.warn("connections did not close within {} s; stopping anyway",
                         shutdown_grace.count());
            ioc->stop();
        }
    }
    for (auto& t : io_threads) t.join();
    srv.finish();
    ioc.reset();
    int status = 0;
    if (auto f = store->flush(); !f) {
        run_log.error("flush: {}", f.error().message);
        status = 1;
    }
    health.set_store_open(false);
    run_log.info("stopped at seq {}", store->last_seq());
    return status;
}

}  // namespace labeler::app
