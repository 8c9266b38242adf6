#pragma once
// Readiness flags shared by the store, the pipeline and the server's /xrpc/_health.
// Each component owns one flag and flips it; readers only load. Lock-free, any thread.
#include <atomic>
#include <mutex>
#include <string>

namespace labeler {

class health {
public:
    void set_store_open(bool v) { store_open_.store(v); }
    void set_pipeline_ok(bool v, std::string why = {}) {
        std::lock_guard lk(mu_);
        pipeline_ok_.store(v);
        pipeline_reason_ = std::move(why);
    }
    bool store_open() const { return store_open_.load(); }
    bool pipeline_ok() const { return pipeline_ok_.load(); }
    bool ready() const { return store_open() && pipeline_ok(); }
    // Human-readable reason when not ready ("" when ready).
    std::string reason() const {
        if (!store_open()) return "store is not open";
        std::lock_guard lk(mu_);
        return pipeline_ok_ ? std::string{} : "pipeline: " + pipeline_reason_;
    }

private:
    std::atomic<bool> store_open_{false};
    std::atomic<bool> pipeline_ok_{true};
    mutable std::mutex mu_;
    std::string pipeline_reason_;
};

}  // namespace labeler
