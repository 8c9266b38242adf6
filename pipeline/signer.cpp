#include "pipeline/signer.hpp"

#include <exception>
#include <utility>

namespace labeler::pipeline {

namespace {
// Below this, handing half to the helper costs more than it saves (a wake-up is ~10 us here).
constexpr std::size_t min_parallel = 8;
}  // namespace

signer::signer(const atproto::private_key& key) : key_(key), helper_([this] { run(); }) {}

signer::~signer() {
    {
        std::lock_guard lk(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    helper_.join();
}

void signer::sign_range(std::span<sign_job> jobs) const {
    for (auto& j : jobs) {
        j.label.sig = key_.sign(atproto::signing_bytes(j.label));
        j.cbor = atproto::encode_cbor(j.label);
    }
}

void signer::sign_all(std::span<sign_job> jobs) {
    if (jobs.size() < min_parallel) {
        sign_range(jobs);
        return;
    }
    const std::size_t half = jobs.size() / 2;
    {
        std::lock_guard lk(mu_);
        work_ = jobs.subspan(half);
        has_work_ = true;
    }
    cv_.notify_all();
    std::exception_ptr mine;
    try {
        sign_range(jobs.first(half));
    } catch (...) {
        mine = std::current_exception();
    }
    // Always wait: the helper is writing into `jobs` until it is done.
    std::unique_lock lk(mu_);
    cv_.wait(lk, [this] { return !has_work_; });
    auto theirs = std::exchange(helper_error_, nullptr);
    lk.unlock();
    if (mine) std::rethrow_exception(mine);
    if (theirs) std::rethrow_exception(theirs);
}

void signer::run() {
    std::unique_lock lk(mu_);
    for (;;) {
        cv_.wait(lk, [this] { return has_work_ || stop_; });
        if (stop_) return;
        auto work = work_;
        lk.unlock();
        std::exception_ptr error;
        try {
            sign_range(work);
        } catch (...) {
            error = std::current_exception();  // handed to sign_all's caller
        }
        lk.lock();
        helper_error_ = error;
        has_work_ = false;
        cv_.notify_all();
    }
}

}  // namespace labeler::pipeline
