#include "pipeline/signer.hpp"
#include "src/common/thread_name.hpp"

#include <algorithm>
#include <exception>
#include <utility>

namespace labeler::pipeline {

namespace {
// Below this, waking the helper costs more than it saves (a wake-up is ~10 us here).
constexpr std::size_t min_parallel = 8;
constexpr std::size_t chunk = 4;  // labels per grab from the shared counter
}  // namespace

signer::signer(const atproto::private_key& key) : key_(key), helper_([this] {
    name_this_thread("signer");
    run();
}) {}

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

// Both threads take chunks from a shared counter, so whichever runs does the work: if the
// helper is not scheduled (the other core is busy with the source), the writer does not wait
// for a fixed half; it signs everything and withdraws the offer.
void signer::run_chunks(std::span<sign_job> jobs) {
    for (;;) {
        const std::size_t i = next_.fetch_add(chunk);
        if (i >= jobs.size()) return;
        sign_range(jobs.subspan(i, std::min(chunk, jobs.size() - i)));
    }
}

void signer::sign_all(std::span<sign_job> jobs) {
    if (jobs.size() < min_parallel) {
        sign_range(jobs);
        return;
    }
    next_.store(0);
    {
        std::lock_guard lk(mu_);
        work_ = jobs;
        offered_ = true;
    }
    cv_.notify_all();
    std::exception_ptr mine;
    try {
        run_chunks(jobs);
    } catch (...) {
        mine = std::current_exception();
        next_.store(jobs.size());  // the helper stops after its current chunk
    }
    std::unique_lock lk(mu_);
    if (offered_) offered_ = false;  // the helper never started: nothing to wait for
    else cv_.wait(lk, [this] { return !helper_busy_; });  // it may be writing into `jobs`
    auto theirs = std::exchange(helper_error_, nullptr);
    lk.unlock();
    if (mine) std::rethrow_exception(mine);
    if (theirs) std::rethrow_exception(theirs);
}

void signer::run() {
    std::unique_lock lk(mu_);
    for (;;) {
        cv_.wait(lk, [this] { return offered_ || stop_; });
        if (stop_) return;
        offered_ = false;
        helper_busy_ = true;
        auto work = work_;
        lk.unlock();
        std::exception_ptr error;
        try {
            run_chunks(work);
        } catch (...) {
            error = std::current_exception();  // handed to sign_all's caller
            next_.store(work.size());
        }
        lk.lock();
        helper_error_ = error;
        helper_busy_ = false;
        cv_.notify_all();
    }
}

}  // namespace labeler::pipeline
