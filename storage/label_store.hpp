#pragma once
// label_store: all durable state of the labeler, in one RocksDB folder.
//
// Owns: the append-only label log (seq -> signed DAG-CBOR label), the index of current entries
// in seq order, one state record per subject (its current entry per value; for an account also
// its follow records that target the labeler and its status), the per-source cursors, the last
// sequence number, and the environment stamp. Layout: storage/keys.hpp.
//
// Threading: exactly one writer thread uses begin()/commit()/commit_async() (the pipeline's
// writer; later the re-roll and operator API post their work to it). The store's own commit
// thread writes the batches, so the writer can build batch N+1 while batch N is written and
// synced; batch N+1 reads through batch N's writes. All read functions are thread-safe, never
// block the writer, and do blocking disk I/O: call them from a blocking pool, never from a
// network I/O thread.
//
// Durability: a commit writes one rocksdb::WriteBatch (log entries, index, state records with
// their follow records and statuses, cursor, last seq) atomically. Sequence numbers are never reused,
// even after a crash, because last_seq is in the same batch as the entries.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/common/result.hpp"
#include "storage/types.hpp"

namespace prometheus { class Registry; }

namespace labeler::storage {

// error::code values returned by the store.
enum class store_errc : int {
    io = 1,               // RocksDB reported an I/O error
    stamp_mismatch = 2,   // folder belongs to another environment / labeler / key
    corrupt = 3,          // a stored record does not parse (the message names the key)
    locked = 4,           // another process has the folder open
    failed = 5,           // an earlier commit failed; the store refuses further commits
    invalid_argument = 6, // bad query or key (e.g. a URI containing 0x00)
    not_found = 7,        // folder missing and create_if_missing = false
    read_only = 8,        // write attempted on a read-only store
};

// Written when the data folder is created; checked on every open.
struct stamp {
    std::string environment;      // profile name, e.g. "production"
    std::string labeler_did;      // did:plc:...
    std::string key_fingerprint;  // did:key of the signing key's public half
};

struct store_options {
    std::filesystem::path path;
    stamp expected;
    enum class sync_mode { every_batch, interval } sync = sync_mode::every_batch;
    std::chrono::milliseconds sync_interval{100};   // used with sync_mode::interval
    std::size_t block_cache_bytes = 64u << 20;
    bool create_if_missing = true;
    bool read_only = false;                          // for `check`/inspection tools
    // Test hook: runs on the commit thread just before each batch is written.
    std::function<void()> before_write_for_tests;
};

struct query_request {
    std::vector<std::string> patterns;  // exact URI, or prefix ending in '*'; "*" = everything
    std::vector<std::string> sources;   // empty = any source
    std::uint64_t after_seq = 0;        // cursor: only entries with seq > after_seq
    std::size_t limit = 50;             // 1..250 (validated by the caller)
};

struct query_response {
    std::vector<log_entry> labels;             // current entry per (uri, val), ascending seq
    std::optional<std::uint64_t> next_cursor;  // set when more matches may follow
};

// Receives queryLabels results without copies (label_store::query_each): begin() once with
// the next page's cursor, then have() for every result in seq order, then label() in seq order
// for each result whose have() returned false; `cbor` is valid only during the call. A visitor
// that already holds some labels (e.g. a cache of their rendering) answers have() with true,
// and the store does not read those log entries at all.
class query_visitor {
public:
    virtual ~query_visitor() = default;
    virtual void begin(std::optional<std::uint64_t> next_cursor) = 0;
    virtual bool have(std::uint64_t /*seq*/) { return false; }
    virtual void label(std::uint64_t seq, std::string_view cbor) = 0;
};

struct store_stats {
    std::uint64_t last_seq = 0;
    std::uint64_t log_entries = 0;         // estimate is fine
    std::uint64_t current_labels = 0;      // (uri, val) pairs whose latest entry is positive
    std::uint64_t follow_records = 0;
    std::uint64_t disk_bytes = 0;
};

class label_store;

// A batch under construction. Reads see the committed store, the batch being written when this
// one was begun (if any), and this batch's own writes (read-your-writes), so a decision for
// event N sees the effects of events 0..N-1.
// Used by the single writer thread only; must not outlive its store. A read that fails inside
// a write (I/O error, corrupt record) is remembered and makes commit() refuse the batch.
class write_batch {
public:
    write_batch(write_batch&&) noexcept;
    write_batch& operator=(write_batch&&) noexcept;
    ~write_batch();

    // --- reads (overlay of batch + store) ---
    // Subject DID of follow record (follower, rkey) if it is known (i.e. it targets the labeler).
    result<std::optional<std::string>> follow_subject(std::string_view follower, std::string_view rkey);
    // Number of follow records of `follower` that are known (0 = not a follower).
    result<std::size_t> follow_count(std::string_view follower);
    result<subject_state> state(std::string_view uri);
    result<account_status> account(std::string_view did);
    std::uint64_t next_seq() const;   // seq the next append() will get

    // --- writes ---
    // Records follow (follower, rkey) -> subject. Re-putting a known record is a no-op.
    void put_follow(std::string_view follower, std::string_view rkey, std::string_view subject);
    // Forgets follow record (follower, rkey); a no-op when it is unknown (not ours / gone).
    void delete_follow(std::string_view follower, std::string_view rkey);
    // Stores a non-active status; `active` removes the record.
    void set_account(std::string_view did, account_status status);
    // Appends a signed label; returns its seq. Updates the subject state and indexes so the
    // new entry becomes the current one for (uri, val).
    // Returns 0 and writes nothing (idempotency) when the label changes nothing: its (uri, val,
    // neg) equals the current entry for (uri, val), or it negates a value the subject never
    // had (counted by skipped()); or when uri/src is empty or contains 0x00 (rejected()).
    // `cbor` may be left empty and given later with set_encoding() (before commit): the writer
    // decides and appends in order, then signs the whole batch in parallel.
    std::uint64_t append(const label_fields& fields, std::string cbor);
    // The encoded label of an entry appended without one. False if `seq` is not an entry of
    // this batch, already has its encoding, or `cbor` is empty.
    bool set_encoding(std::uint64_t seq, std::string cbor);
    // The source position this batch covers ("jetstream", "firehose", "file:<path>" ...).
    void set_cursor(std::string_view source, std::uint64_t cursor);

    std::size_t appended() const;     // labels appended so far
    std::size_t skipped() const;      // appends skipped because they changed nothing
    std::size_t rejected() const;     // writes refused: a key part was empty or contained 0x00
    bool empty() const;               // nothing to write at all

private:
    friend class label_store;
    struct impl;
    explicit write_batch(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

class label_store {
public:
    // Opens (creating if allowed) the data folder. Fails with a clear message when the folder's
    // stamp differs from options.expected (naming both sides), or when it is corrupt or locked.
    static result<std::unique_ptr<label_store>> open(const store_options& options,
                                                     prometheus::Registry* metrics = nullptr);
    ~label_store();

    // --- writer side (one thread) ---
    // A new batch. It may be begun while the previous one is still being written.
    write_batch begin();
    // Called once per commit_async() batch with the appended entries in seq order, or the
    // write error. Runs on the store's commit thread, in commit order, after the batch is
    // durable (per options.sync) and last_seq() includes it. Must not call commit() or drain().
    using commit_callback = std::function<void(result<std::vector<shared_entry>>)>;
    // Hands the batch to the commit thread, which writes it as one WriteBatch (atomically) and
    // syncs the WAL per options, then calls `done`. Waits first until the previously handed
    // batch is written, so at most one batch is in flight. An error here means nothing was
    // handed over and `done` is not called: a batch begun before another commit, one whose
    // reads failed, or any batch after an earlier write failure (store_errc::failed; the store
    // refuses commits from then on). An empty batch writes nothing and calls `done` at once.
    result<void> commit_async(write_batch&& batch, commit_callback done);
    // commit_async() and wait: the appended entries in seq order, or the error.
    result<std::vector<shared_entry>> commit(write_batch&& batch);
    // Waits until every batch handed to commit_async() is written and its callback has run.
    void drain();

    // --- readers (any thread, blocking I/O) ---
    std::uint64_t last_seq() const;                            // 0 when the log is empty
    std::optional<std::uint64_t> cursor(std::string_view source) const;
    // Up to `max` log entries with seq > after_seq, ascending. For subscribeLabels replay.
    result<std::vector<log_entry>> read_log(std::uint64_t after_seq, std::size_t max) const;
    result<query_response> query(const query_request& q) const;
    // The same query, streamed to `visit` (queryLabels renders from it with no per-label copy).
    // On error, what was visited so far must be discarded.
    result<void> query_each(const query_request& q, query_visitor& visit) const;
    result<subject_state> state(std::string_view uri) const;
    // Lists (follower DID) of every account with at least one follow record; for re-roll.
    result<std::vector<std::string>> followers(std::string_view after, std::size_t max) const;
    store_stats stats() const;
    const stamp& data_stamp() const;
    // Waits for the batch in flight, then forces the WAL to disk (used on shutdown).
    result<void> flush();
    // Waits until RocksDB has no flush or compaction running or pending (after a bulk load,
    // before measuring steady-state reads). False if `timeout` passed first.
    bool wait_for_compactions(std::chrono::milliseconds timeout) const;

    struct impl;
private:
    explicit label_store(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

}  // namespace labeler::storage
