#pragma once
// writer: the writer-thread half of the pipeline. Turns a run of frames into ONE storage write
// batch: decide each event against the batch overlay and append the resulting labels (their
// state and index changes take effect in the overlay at once), then sign them all on two
// threads (signer), set the source cursor (of the last frame that has one), and hand the batch
// to the store's commit thread (label_store::commit_async). Once it is durable, the commit
// thread publishes the entries to the label sink. The cursor is in the same WriteBatch as the
// labels it covers. While batch N is written and synced, process() already builds batch N+1,
// which reads through batch N's writes.
//
// Replay protection: `high_water` is the highest cursor ever committed for this source (loaded
// from the store). Frames at or before it were processed already; decide only applies their
// deletes of still-known records. The stored cursor never moves below the high-water mark, so
// a crash during an explicit `--cursor` replay cannot make old events look new.
//
// Threading: the single writer thread only (label_store's contract); not thread-safe, except
// committed_cursor()/position() which any thread may call. The failure handler and the sink
// are called on the store's commit thread.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pipeline/decide.hpp"
#include "pipeline/event.hpp"
#include "pipeline/probe.hpp"
#include "pipeline/signer.hpp"
#include "src/atproto/crypto.hpp"
#include "src/common/result.hpp"
#include "storage/label_sink.hpp"
#include "storage/label_store.hpp"

namespace labeler::pipeline {

struct batch_stats {
    std::size_t frames = 0;
    std::size_t issued = 0;
    std::size_t negated = 0;
    std::size_t skipped = 0;  // replayed events not re-applied
    bool committed = false;  // handed to the store (written and published asynchronously)
};

class writer {
public:
    writer(storage::label_store& store, storage::label_sink& sink, const atproto::private_key& key,
           std::string labeler_did, std::string source_key, decider decide, probe* p = nullptr);
    // Waits for the batches handed to the store: their callbacks refer to this writer.
    ~writer();

    // Processes `frames` in order as one write batch and hands it to the store; its entries are
    // published once it is durable. `now` is the wall clock used for label cts. An error (a
    // store read failed, or the store refuses commits) means nothing of this batch was written;
    // the caller must stop. A failure of the asynchronous write itself goes to the failure
    // handler instead.
    result<batch_stats> process(std::span<frame_item> frames,
                                std::chrono::system_clock::time_point now);
    // Called (on the commit thread) when a batch handed to the store could not be written.
    void on_failure(std::function<void(const error&)> f) { on_failure_ = std::move(f); }
    // Waits until every batch handed to the store is written and published.
    void finish();

    // Highest cursor committed for this source (stored or by this writer). Any thread.
    std::optional<std::uint64_t> committed_cursor() const;
    // The cursor of the last batch this writer committed (where a reconnect resumes), or the
    // stored cursor before that. Any thread.
    std::optional<std::uint64_t> position() const;
    const std::string& source_key() const { return source_key_; }

private:
    // Appends the label for `c` (unsigned: its encoding comes after sign_all) and queues it.
    void append(storage::write_batch& b, const label_change& c,
                std::chrono::system_clock::time_point now, batch_stats& st);

    storage::label_store& store_;
    storage::label_sink& sink_;
    const atproto::private_key& key_;
    std::string labeler_did_;
    std::string source_key_;
    decider decide_;
    probe* probe_;
    signer signer_;
    std::vector<sign_job> jobs_;  // this batch's labels, in append order
    std::function<void(const error&)> on_failure_;
    // The highest cursor handed to the store (writer thread): frames at or before it are
    // replays even while the batch that covers them is still being written.
    std::optional<std::uint64_t> queued_high_water_;
    static constexpr std::uint64_t none = ~std::uint64_t(0);
    std::atomic<std::uint64_t> high_water_{none};
    std::atomic<std::uint64_t> position_{none};
};

}  // namespace labeler::pipeline
