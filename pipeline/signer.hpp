#pragma once
// signer: signs a batch's labels on two threads (the caller's and one helper, taking chunks
// from a shared counter), so signing, the most expensive step per label, does not serialize
// the writer. Signatures are
// independent per label; the batch order and every decision were fixed before signing.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <span>
#include <string>
#include <thread>

#include "src/atproto/crypto.hpp"
#include "src/atproto/label.hpp"

namespace labeler::pipeline {

struct sign_job {
    std::uint64_t seq = 0;  // the entry's seq in the write batch
    atproto::label label;   // complete except `sig`
    std::string cbor;       // out: the signed label, DAG-CBOR
};

class signer {
public:
    explicit signer(const atproto::private_key& key);
    ~signer();
    signer(const signer&) = delete;
    signer& operator=(const signer&) = delete;

    // Signs and encodes every job; returns when all are done. Small runs stay on the caller.
    void sign_all(std::span<sign_job> jobs);

private:
    void sign_range(std::span<sign_job> jobs) const;
    void run_chunks(std::span<sign_job> jobs);
    void run();

    const atproto::private_key& key_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::span<sign_job> work_;
    std::atomic<std::size_t> next_{0};  // next job index to take (both threads)
    bool offered_ = false;              // work_ offered, the helper has not taken it yet
    bool helper_busy_ = false;          // the helper is signing from work_
    std::exception_ptr helper_error_;  // what the helper's half threw, for sign_all to rethrow
    bool stop_ = false;
    std::thread helper_;
};

}  // namespace labeler::pipeline
