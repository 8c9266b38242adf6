#pragma once
// hub: the set of live subscribeLabels sessions and the fan-out of published frames.
//
// publish() hands one shared, immutable batch of frames to every subscriber; each subscriber
// posts it to its own strand and applies its own bounded queue, so a slow subscriber never
// slows the others or the caller. Thread-safe (one mutex around the set; never held while a
// subscriber runs its own work). After close_all() new subscribers are refused.
#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "src/server/frames.hpp"

namespace labeler::server {

class subscriber {
public:
    virtual ~subscriber() = default;
    // Called from any thread; must only post to the subscriber's strand.
    virtual void deliver(frame_batch batch) = 0;
    // Graceful close (close frame 1001); called from any thread.
    virtual void shutdown() = 0;
};

class hub {
public:
    // Registers `s`; false when the hub is closed (shutting down).
    bool add(const std::shared_ptr<subscriber>& s);
    void remove(const subscriber* s);
    // Delivers `batch` to every registered subscriber.
    void publish(const frame_batch& batch);
    // Refuses new subscribers and shuts every current one down.
    void close_all();
    std::size_t size() const;
    bool closed() const { return closed_.load(); }

private:
    std::vector<std::shared_ptr<subscriber>> snapshot() const;
    mutable std::mutex mu_;
    std::unordered_map<const subscriber*, std::weak_ptr<subscriber>> subs_;
    std::atomic<bool> closed_{false};
};

}  // namespace labeler::server
