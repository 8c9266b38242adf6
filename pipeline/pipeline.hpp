#pragma once
// pipeline: turns source events into signed, committed, published labels.
//
//   source (jetstream | firehose | file) -> decode -> filter -> [bounded queue] ->
//   decide -> sign -> commit (one WriteBatch per batch, cursor included) -> publish (label_sink)
//
// Owns the source client and the writer thread. Backpressure: when the queue is full the
// source stops reading its socket. The writer is the only user of label_store::begin/commit.
// A failed commit stops the pipeline and marks health not ready (never silently dropped).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "src/atproto/crypto.hpp"
#include "src/common/health.hpp"
#include "src/config/profile.hpp"
#include "storage/label_sink.hpp"
#include "storage/label_store.hpp"

namespace prometheus { class Registry; }

namespace labeler::pipeline {

struct pipeline_deps {
    const config::profile& profile;
    storage::label_store& store;
    storage::label_sink& sink;
    const atproto::private_key& key;
    prometheus::Registry& metrics;
    labeler::health& health;
    // Seed for the label-value RNG; nullopt = seeded from std::random_device (tests pass one).
    std::optional<std::uint64_t> rng_seed = std::nullopt;
};

class pipeline {
public:
    // start_cursor overrides the stored cursor (run --cursor N / source.cursor).
    pipeline(pipeline_deps deps, std::optional<std::uint64_t> start_cursor);
    ~pipeline();  // stop() if still running

    void start();  // starts the source and writer threads; returns at once
    void stop();   // stops the source, drains and commits what was decoded, joins; idempotent
    // True once a kind=file source has replayed its whole file (tests and tools wait on it).
    bool source_finished() const;
    // True while the writer runs (false after stop() or after a failed commit).
    bool running() const;
    // The store key of this source's cursor: "jetstream", "firehose" or "file:<path>".
    static std::string source_key(const config::source_config& source);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace labeler::pipeline
