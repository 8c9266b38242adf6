// label_store on RocksDB. Key layout: storage/keys.hpp. Design notes: docs/storage.md.
#include "storage/label_store.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>
#include <unordered_map>

#include "src/common/log.hpp"
#include "src/common/thread_name.hpp"
#include "storage/keys.hpp"

namespace labeler::storage {
namespace {

const logger kLog{"storage"};

enum cf_id : std::size_t { cf_default, cf_log, cf_current, cf_state, cf_meta, cf_count };
constexpr const char* kCfNames[cf_count] = {"default", "log", "current", "state", "meta"};
// Column families of older schemas, opened only to upgrade a folder and then dropped: schema 1's
// by_uri and by_src indexes, schema 2's follows and accounts (now in the state records).
constexpr const char* kLegacyCfNames[] = {"by_uri", "by_src", "follows", "accounts"};
// Subject records an upgrade rewrites per (unsynced) WriteBatch; the last one is synced.
constexpr std::size_t kUpgradeBatch = 10000;

constexpr std::string_view kMetaSchema = "schema";
constexpr std::string_view kMetaStamp = "stamp";
constexpr std::string_view kMetaLastSeq = "last_seq";
constexpr std::string_view kMetaLogCount = "n/log";
constexpr std::string_view kMetaCurrentCount = "n/current";
constexpr std::string_view kMetaFollowCount = "n/follows";

// A prefix pattern whose `state` range holds more subjects than this is answered by scanning
// `current` in seq order instead (see query_each()).
constexpr std::size_t kPrefixRangeBudget = 16384;
// Keys of `current` a prefix query reads, hoping the prefix matches densely, once its `state`
// range turned out to hold more than kNarrowRange subjects.
constexpr std::size_t kDenseProbe = 1024;
constexpr std::size_t kNarrowRange = 256;

rocksdb::Slice sl(std::string_view s) { return {s.data(), s.size()}; }
std::string_view sv(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

error io_error(std::string_view what, const rocksdb::Status& s) {
    return error(int(store_errc::io), fmt::format("{}: {}", what, s.ToString()));
}
error corrupt(std::string msg) { return error(int(store_errc::corrupt), std::move(msg)); }
error invalid(std::string msg) { return error(int(store_errc::invalid_argument), std::move(msg)); }

std::string stamp_text(const stamp& s) {
    return fmt::format("environment \"{}\" (labeler {}, key {})", s.environment, s.labeler_did,
                       s.key_fingerprint);
}

std::uint64_t directory_bytes(const std::filesystem::path& dir) {
    std::error_code ec;
    std::uint64_t total = 0;
    for (auto it = std::filesystem::directory_iterator(dir, ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        std::error_code fec;
        if (it->is_regular_file(fec)) {
            auto n = it->file_size(fec);
            if (!fec) total += n;
        }
    }
    return total;
}

// Metrics of the store; only built when a registry is given.
struct probe {
    explicit probe(prometheus::Registry& r)
        : commits(prometheus::BuildCounter()
                      .Name("labeler_storage_commits_total")
                      .Help("WriteBatches committed to the label store")
                      .Register(r)
                      .Add({})),
          commit_failures(prometheus::BuildCounter()
                              .Name("labeler_storage_commit_failures_total")
                              .Help("Commits that failed (the store then refuses further commits)")
                              .Register(r)
                              .Add({})),
          commit_seconds(prometheus::BuildHistogram()
                             .Name("labeler_storage_commit_seconds")
                             .Help("Time to write (and sync) one WriteBatch")
                             .Register(r)
                             .Add({}, prometheus::Histogram::BucketBoundaries{
                                          0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                          0.25, 0.5, 1.0, 2.5})),
          appended(prometheus::BuildCounter()
                       .Name("labeler_storage_labels_appended_total")
                       .Help("Labels appended to the label log")
                       .Register(r)
                       .Add({})),
          last_seq(prometheus::BuildGauge()
                       .Name("labeler_storage_last_seq")
                       .Help("Sequence number of the newest label in the log")
                       .Register(r)
                       .Add({})),
          log_entries(prometheus::BuildGauge()
                          .Name("labeler_storage_log_entries")
                          .Help("Entries in the label log (including negations)")
                          .Register(r)
                          .Add({})),
          current_labels(prometheus::BuildGauge()
                             .Name("labeler_storage_current_labels")
                             .Help("(subject, value) pairs whose latest entry is positive")
                             .Register(r)
                             .Add({})),
          follow_records(prometheus::BuildGauge()
                             .Name("labeler_storage_follow_records")
                             .Help("Follow records that target the labeler")
                             .Register(r)
                             .Add({})),
          disk_bytes(prometheus::BuildGauge()
                         .Name("labeler_storage_disk_bytes")
                         .Help("Bytes used by the data folder (refreshed every few seconds)")
                         .Register(r)
                         .Add({})) {}

    prometheus::Counter& commits;
    prometheus::Counter& commit_failures;
    prometheus::Histogram& commit_seconds;
    prometheus::Counter& appended;
    prometheus::Gauge& last_seq;
    prometheus::Gauge& log_entries;
    prometheus::Gauge& current_labels;
    prometheus::Gauge& follow_records;
    prometheus::Gauge& disk_bytes;
};

}  // namespace

// ------------------------------------------------------------------------------------------
// label_store::impl: the open database, its column families, the in-memory copies of the
// counters (atomics, written by the writer after each commit, read by anyone), and the
// background WAL syncer of sync_mode::interval.
struct label_store::impl {
    store_options opts;
    rocksdb::DB* db = nullptr;  // owned; closed in ~impl after the handles are destroyed
    std::vector<rocksdb::ColumnFamilyHandle*> cfs;
    std::shared_ptr<rocksdb::Cache> cache;
    stamp data_stamp;

    std::atomic<std::uint64_t> last_seq{0};
    std::atomic<std::uint64_t> n_log{0};
    std::atomic<std::uint64_t> n_current{0};
    std::atomic<std::uint64_t> n_follows{0};
    std::atomic<bool> failed{false};
    std::atomic<bool> unsynced{false};

    // The label sources (src DIDs) that have labels here, from meta "src/..." records. Added
    // to before the commit that writes their first label, so a reader that took a snapshot
    // and then reads this list never misses a source of that snapshot.
    mutable std::mutex sources_mu;
    std::vector<std::string> sources;

    std::unique_ptr<probe> metrics;
    std::chrono::steady_clock::time_point disk_refreshed{};

    std::thread syncer;
    std::mutex sync_mu;
    std::condition_variable sync_cv;
    bool stopping = false;

    // The commit thread and its one-batch slot (see label_store::commit_async).
    struct commit_job {
        rocksdb::WriteBatch wb;
        std::vector<shared_entry> entries;
        std::uint64_t last_seq, n_log, n_current, n_follows;
        commit_callback done;
    };
    std::thread committer;
    std::mutex commit_mu;
    std::condition_variable commit_cv;
    std::optional<commit_job> job;  // handed over, not yet written and called back
    bool commit_stop = false;
    // Writer thread only: the last seq of the newest batch handed over, and that batch itself,
    // which a batch begun while it may still be in flight reads through.
    std::uint64_t next_base = 0;
    std::shared_ptr<const write_batch::impl> tail;

    rocksdb::ColumnFamilyHandle* cf(cf_id id) const { return cfs[id]; }

    bool knows_source(std::string_view src) const {
        std::lock_guard lk(sources_mu);
        return std::find(sources.begin(), sources.end(), src) != sources.end();
    }
    std::vector<std::string> known_sources() const {
        std::lock_guard lk(sources_mu);
        return sources;
    }

    ~impl() {
        if (committer.joinable()) {  // writes what was handed over, then stops
            {
                std::lock_guard lk(commit_mu);
                commit_stop = true;
            }
            commit_cv.notify_all();
            committer.join();
        }
        tail.reset();
        if (syncer.joinable()) {
            {
                std::lock_guard lk(sync_mu);
                stopping = true;
            }
            sync_cv.notify_all();
            syncer.join();
        }
        if (!db) return;
        if (!opts.read_only) {
            auto s = db->FlushWAL(true);
            if (!s.ok()) kLog.error("syncing the WAL on close failed: {}", s.ToString());
            // Persist the memtables so the next open does not replay the WAL.
            s = db->Flush(rocksdb::FlushOptions(), cfs);
            if (!s.ok()) kLog.warn("flushing memtables on close failed: {}", s.ToString());
        }
        for (auto* h : cfs)
            if (h) db->DestroyColumnFamilyHandle(h);
        cfs.clear();
        auto s = db->Close();
        if (!s.ok()) kLog.warn("closing {}: {}", opts.path.string(), s.ToString());
        delete db;
        db = nullptr;
    }

    void commit_loop() {
        std::unique_lock lk(commit_mu);
        for (;;) {
            commit_cv.wait(lk, [&] { return job || commit_stop; });
            if (!job) return;
            auto& j = *job;
            lk.unlock();
            if (opts.before_write_for_tests) opts.before_write_for_tests();
            rocksdb::WriteOptions wo;
            wo.sync = opts.sync == store_options::sync_mode::every_batch;
            const auto t0 = std::chrono::steady_clock::now();
            auto s = db->Write(wo, &j.wb);
            const double secs =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            if (!s.ok()) {
                failed = true;
                if (metrics) metrics->commit_failures.Increment();
                auto e = io_error(fmt::format("committing {} labels to {}", j.entries.size(),
                                              opts.path.string()), s);
                kLog.error("{}; the store refuses further commits", e.message);
                j.done(std::move(e));
            } else {
                if (!wo.sync) unsynced = true;
                last_seq = j.last_seq;
                n_log = j.n_log;
                n_current = j.n_current;
                n_follows = j.n_follows;
                if (metrics) {
                    metrics->commits.Increment();
                    metrics->commit_seconds.Observe(secs);
                    metrics->appended.Increment(double(j.entries.size()));
                    refresh_gauges(false);
                }
                j.done(std::move(j.entries));
            }
            lk.lock();
            job.reset();
            commit_cv.notify_all();
        }
    }

    // Until nothing handed to the commit thread is left to write or call back.
    void wait_idle() {
        std::unique_lock lk(commit_mu);
        commit_cv.wait(lk, [&] { return !job; });
    }

    void sync_loop() {
        std::unique_lock lk(sync_mu);
        while (!stopping) {
            sync_cv.wait_for(lk, opts.sync_interval);
            if (stopping) break;
            if (!unsynced.exchange(false)) continue;
            lk.unlock();
            auto s = db->SyncWAL();
            lk.lock();
            if (!s.ok()) {
                kLog.error("periodic WAL sync failed, refusing further commits: {}", s.ToString());
                failed = true;
            }
        }
    }

    void refresh_gauges(bool force_disk) {
        if (!metrics) return;
        metrics->last_seq.Set(double(last_seq.load()));
        metrics->log_entries.Set(double(n_log.load()));
        metrics->current_labels.Set(double(n_current.load()));
        metrics->follow_records.Set(double(n_follows.load()));
        auto now = std::chrono::steady_clock::now();
        if (force_disk || now - disk_refreshed > std::chrono::seconds(5)) {
            disk_refreshed = now;
            metrics->disk_bytes.Set(double(directory_bytes(opts.path)));
        }
    }

    // The handle of a legacy column family that this open found, or nullptr.
    rocksdb::ColumnFamilyHandle* legacy(std::string_view name) const {
        for (std::size_t i = cf_count; i < cfs.size(); ++i)
            if (cfs[i]->GetName() == name) return cfs[i];
        return nullptr;
    }

    result<void> write_schema(rocksdb::WriteBatch& b, std::string_view version) {
        b.Put(cf(cf_meta), sl(kMetaSchema), sl(version));
        rocksdb::WriteOptions wo;
        wo.sync = true;
        auto s = db->Write(wo, &b);
        if (!s.ok()) return io_error(fmt::format("upgrading to schema {}", version), s);
        return {};
    }

    // Schema 1 -> 2: records the label sources (one seek per source in the old by_src index)
    // and schema 2 in one synced write. by_uri and by_src are dropped once the folder is at
    // schema 3 (drop_legacy).
    result<void> upgrade_schema1() {
        rocksdb::WriteBatch b;
        std::size_t n = 0;
        if (auto* by_src = legacy("by_src")) {
            std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), by_src));
            for (it->SeekToFirst(); it->Valid();) {
                auto parts = keys::split_name_seq(sv(it->key()));
                if (!parts)
                    return corrupt(fmt::format("data folder {}: corrupt by_src key of {} bytes",
                                               opts.path.string(), it->key().size()));
                std::string src(parts->first);
                b.Put(cf(cf_meta), sl(keys::source_key(src)), rocksdb::Slice());
                ++n;
                it->Seek(sl(src + '\x01'));
            }
            if (!it->status().ok()) return io_error("reading by_src", it->status());
        }
        auto w = write_schema(b, keys::kSchemaVersion2);
        if (!w) return w;
        kLog.info("data folder {}: upgraded from schema 1 to 2 ({} label sources)",
                  opts.path.string(), n);
        return {};
    }

    // Schema 2 -> 3: merges each account's follow records (`follows`) and status (`accounts`)
    // into its state record, then records schema 3 (synced). Merging is idempotent (a record
    // already holding an rkey keeps it; a status is overwritten), so a crash part-way leaves a
    // schema-2 folder that the next open upgrades again from the start.
    result<void> upgrade_schema2() {
        std::size_t n_follows = 0, n_accounts = 0, pending = 0;
        rocksdb::WriteBatch b;
        auto flush = [&]() -> result<void> {
            if (pending == 0) return {};
            auto s = db->Write(rocksdb::WriteOptions(), &b);
            if (!s.ok()) return io_error("upgrading to schema 3", s);
            b.Clear();
            pending = 0;
            return {};
        };
        auto load = [&](std::string_view did) -> result<subject_state> {
            std::string v;
            auto s = db->Get(rocksdb::ReadOptions(), cf(cf_state), sl(did), &v);
            if (s.IsNotFound()) return subject_state{};
            if (!s.ok()) return io_error(fmt::format("reading state of \"{}\"", did), s);
            return keys::decode_state(v, did);
        };
        if (auto* follows = legacy("follows")) {
            std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), follows));
            it->SeekToFirst();
            while (it->Valid()) {  // one follower at a time: its records are adjacent
                auto first = keys::split_follow_key(sv(it->key()));
                if (!first)
                    return corrupt(fmt::format("data folder {}: corrupt follows key of {} bytes",
                                               opts.path.string(), it->key().size()));
                const std::string did(first->first);
                auto st = load(did);
                if (!st) return st.error();
                for (; it->Valid(); it->Next()) {
                    auto parts = keys::split_follow_key(sv(it->key()));
                    if (!parts || parts->first != did) break;
                    follow_record f{std::string(parts->second), it->value().ToString()};
                    auto pos = std::lower_bound(st->follows.begin(), st->follows.end(), f.rkey,
                                                [](auto& r, auto& k) { return r.rkey < k; });
                    if (pos == st->follows.end() || pos->rkey != f.rkey)
                        st->follows.insert(pos, std::move(f));
                    ++n_follows;
                }
                b.Put(cf(cf_state), sl(did), sl(keys::encode_state(*st)));
                if (++pending == kUpgradeBatch)
                    if (auto f = flush(); !f) return f;
            }
            if (!it->status().ok()) return io_error("reading follows", it->status());
            if (auto f = flush(); !f) return f;  // the account pass reads these records
        }
        if (auto* accounts = legacy("accounts")) {
            std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), accounts));
            for (it->SeekToFirst(); it->Valid(); it->Next()) {
                const std::string did = it->key().ToString();
                auto v = it->value();
                if (v.size() != 1 || std::uint8_t(v[0]) > std::uint8_t(account_status::other_inactive))
                    return corrupt(fmt::format("data folder {}: corrupt account status for \"{}\"",
                                               opts.path.string(), did));
                auto st = load(did);
                if (!st) return st.error();
                st->account = account_status(std::uint8_t(v[0]));
                b.Put(cf(cf_state), sl(did), sl(keys::encode_state(*st)));
                ++n_accounts;
                if (++pending == kUpgradeBatch)
                    if (auto f = flush(); !f) return f;
            }
            if (!it->status().ok()) return io_error("reading accounts", it->status());
        }
        auto w = write_schema(b, keys::kSchemaVersion);  // with the last records, synced
        if (!w) return w;
        kLog.info("data folder {}: upgraded from schema 2 to 3 ({} follow records and {} account "
                  "statuses moved into the state records)", opts.path.string(), n_follows,
                  n_accounts);
        return {};
    }

    // Drops the legacy column families of a schema-3 folder.
    result<void> drop_legacy() {
        while (cfs.size() > cf_count) {
            auto* h = cfs.back();
            auto name = h->GetName();
            auto s = db->DropColumnFamily(h);
            if (!s.ok()) return io_error(fmt::format("dropping column family {}", name), s);
            db->DestroyColumnFamilyHandle(h);
            cfs.pop_back();
            kLog.info("data folder {}: dropped the old column family {}", opts.path.string(), name);
        }
        return {};
    }

    // Reads a BE8 counter from meta; 0 when absent.
    result<std::uint64_t> read_counter(std::string_view key) const {
        std::string v;
        auto s = db->Get(rocksdb::ReadOptions(), cf(cf_meta), sl(key), &v);
        if (s.IsNotFound()) return std::uint64_t{0};
        if (!s.ok()) return io_error(fmt::format("reading meta/{}", key), s);
        auto n = keys::read_be8(v);
        if (!n) return corrupt(fmt::format("corrupt meta/{}: expected 8 bytes, got {}", key, v.size()));
        return *n;
    }
};

// ------------------------------------------------------------------------------------------
// write_batch::impl: the decoded state records of the subjects the batch touched (labels,
// follow records, account status; written at commit), the `current` changes by seq, the
// appended entries, the cursors and the counter deltas. commit_async() turns it into one
// rocksdb::WriteBatch with each column family's keys in ascending order, which lets the
// memtable inserts of a batch continue each other's search (see the insert hint in open()).
//
// Why not rocksdb::WriteBatchWithIndex: its index is a second skiplist insert per indexed
// write and every read goes through GetFromBatchAndDB; a map of decoded records is cheaper.
struct write_batch::impl {
    struct cached_state {
        subject_state st;
        bool dirty = false;   // changed by this batch: written at commit
        bool stored = false;  // a record exists (or will, once the parent batch is written)
    };

    label_store::impl* store = nullptr;
    // The batch handed to the commit thread before this one was begun, while it may still be
    // in flight: read between this batch and the store. It is immutable from then on.
    std::shared_ptr<const impl> parent;
    std::uint64_t base_seq = 0;
    std::vector<std::shared_ptr<log_entry>> entries;
    // `current` changes by seq: the entry's value (uri + 0x00 + src), or nullopt = delete.
    std::map<std::uint64_t, std::optional<std::string>> current;
    std::unordered_map<std::string, cached_state> states;
    std::vector<std::pair<std::string, std::uint64_t>> cursors;
    std::vector<std::string> new_sources;  // first labels from these sources
    std::int64_t d_current = 0;
    std::int64_t d_follows = 0;
    std::size_t ops = 0;       // follow/account writes that changed something
    std::size_t rejected = 0;  // writes refused because a key part contained 0x00
    std::size_t skipped = 0;   // appends identical to the current entry
    std::optional<error> err;  // first read error; commit() refuses the batch

    rocksdb::ColumnFamilyHandle* cf(cf_id id) const { return store->cf(id); }

    void record(error e) {
        kLog.error("write batch: {}", e.message);
        if (!err) err = std::move(e);
    }

    // The state record of `uri` as of this batch: from the batch, its parent, or the store.
    result<cached_state*> load_state(std::string_view uri) {
        std::string key(uri);
        if (auto it = states.find(key); it != states.end()) return &it->second;
        if (parent)
            if (auto it = parent->states.find(key); it != parent->states.end()) {
                const auto& p = it->second;
                cached_state cs{p.st, false, p.dirty ? !p.st.empty() : p.stored};
                return &states.emplace(std::move(key), std::move(cs)).first->second;
            }
        std::string v;
        auto s = store->db->Get(rocksdb::ReadOptions(), cf(cf_state), sl(uri), &v);
        cached_state cs;
        if (s.ok()) {
            auto st = keys::decode_state(v, uri);
            if (!st) return st.error();
            cs.st = std::move(*st);
            cs.stored = true;
        } else if (!s.IsNotFound()) {
            return io_error(fmt::format("reading state of \"{}\"", uri), s);
        }
        return &states.emplace(std::move(key), std::move(cs)).first->second;
    }

    // The whole batch as one rocksdb::WriteBatch: each column family's keys in ascending
    // order, then the meta records. A state that became empty is deleted.
    void write_to(rocksdb::WriteBatch& b) const {
        for (auto& e : entries) b.Put(cf(cf_log), sl(keys::be8(e->seq)), sl(e->cbor));
        for (auto& [seq, v] : current) {
            if (v) b.Put(cf(cf_current), sl(keys::be8(seq)), sl(*v));
            else b.Delete(cf(cf_current), sl(keys::be8(seq)));
        }
        std::vector<const std::pair<const std::string, cached_state>*> dirty;
        dirty.reserve(states.size());
        for (auto& kv : states)
            if (kv.second.dirty) dirty.push_back(&kv);
        std::sort(dirty.begin(), dirty.end(), [](auto* a, auto* b) { return a->first < b->first; });
        for (auto* kv : dirty) {
            if (!kv->second.st.empty())
                b.Put(cf(cf_state), sl(kv->first), sl(keys::encode_state(kv->second.st)));
            else if (kv->second.stored)
                b.Delete(cf(cf_state), sl(kv->first));
        }
        for (auto& [source, c] : cursors)
            b.Put(cf(cf_meta), sl(keys::cursor_key(source)), sl(keys::be8(c)));
        for (auto& src : new_sources) b.Put(cf(cf_meta), sl(keys::source_key(src)), rocksdb::Slice());
    }
};

write_batch::write_batch(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
write_batch::write_batch(write_batch&&) noexcept = default;
write_batch& write_batch::operator=(write_batch&&) noexcept = default;
write_batch::~write_batch() = default;

namespace {
auto rkey_less = [](const follow_record& r, std::string_view k) { return r.rkey < k; };
}

result<std::optional<std::string>> write_batch::follow_subject(std::string_view follower,
                                                               std::string_view rkey) {
    if (!keys::key_safe(follower) || follower.empty()) return std::optional<std::string>{};
    auto cs = impl_->load_state(follower);
    if (!cs) return cs.error();
    auto& fs = (*cs)->st.follows;
    auto pos = std::lower_bound(fs.begin(), fs.end(), rkey, rkey_less);
    if (pos == fs.end() || pos->rkey != rkey) return std::optional<std::string>{};
    return std::optional<std::string>{pos->subject};
}

result<std::size_t> write_batch::follow_count(std::string_view follower) {
    if (!keys::key_safe(follower) || follower.empty()) return std::size_t{0};
    auto cs = impl_->load_state(follower);
    if (!cs) return cs.error();
    return (*cs)->st.follows.size();
}

result<subject_state> write_batch::state(std::string_view uri) {
    if (!keys::key_safe(uri)) return subject_state{};
    auto cs = impl_->load_state(uri);
    if (!cs) return cs.error();
    return (*cs)->st;
}

result<account_status> write_batch::account(std::string_view did) {
    if (!keys::key_safe(did) || did.empty()) return account_status::active;
    auto cs = impl_->load_state(did);
    if (!cs) return cs.error();
    return (*cs)->st.account;
}

std::uint64_t write_batch::next_seq() const {
    return impl_->base_seq + impl_->entries.size() + 1;
}

void write_batch::put_follow(std::string_view follower, std::string_view rkey,
                             std::string_view subject) {
    auto& I = *impl_;
    if (!keys::key_safe(follower) || !keys::key_safe(rkey) || follower.empty() || rkey.empty()) {
        ++I.rejected;
        return;
    }
    auto cs = I.load_state(follower);
    if (!cs) return I.record(cs.error());
    auto& fs = (*cs)->st.follows;
    auto pos = std::lower_bound(fs.begin(), fs.end(), rkey, rkey_less);
    if (pos != fs.end() && pos->rkey == rkey) {
        if (pos->subject == subject) return;  // already known: no-op
        pos->subject = subject;
    } else {
        fs.insert(pos, follow_record{std::string(rkey), std::string(subject)});
        ++I.d_follows;
    }
    (*cs)->dirty = true;
    ++I.ops;
}

void write_batch::delete_follow(std::string_view follower, std::string_view rkey) {
    auto& I = *impl_;
    if (!keys::key_safe(follower) || !keys::key_safe(rkey)) {
        ++I.rejected;
        return;
    }
    if (follower.empty()) return;
    auto cs = I.load_state(follower);
    if (!cs) return I.record(cs.error());
    auto& fs = (*cs)->st.follows;
    auto pos = std::lower_bound(fs.begin(), fs.end(), rkey, rkey_less);
    if (pos == fs.end() || pos->rkey != rkey) return;  // unknown record (not ours, or gone)
    fs.erase(pos);
    --I.d_follows;
    (*cs)->dirty = true;
    ++I.ops;
}

void write_batch::set_account(std::string_view did, account_status status) {
    auto& I = *impl_;
    if (!keys::key_safe(did) || did.empty()) {
        ++I.rejected;
        return;
    }
    auto cs = I.load_state(did);
    if (!cs) return I.record(cs.error());
    if ((*cs)->st.account == status) return;
    (*cs)->st.account = status;
    (*cs)->dirty = true;
    ++I.ops;
}

std::uint64_t write_batch::append(const label_fields& f, std::string cbor) {
    auto& I = *impl_;
    if (f.uri.empty() || !keys::key_safe(f.uri) || !keys::key_safe(f.src)) {
        ++I.rejected;
        return 0;
    }
    auto cs = I.load_state(f.uri);
    if (!cs) {
        I.record(cs.error());
        return 0;
    }
    auto& labels = (*cs)->st.labels;
    auto pos = std::lower_bound(labels.begin(), labels.end(), f.val,
                                [](const held_label& l, const std::string& v) { return l.val < v; });
    held_label* old = (pos != labels.end() && pos->val == f.val) ? &*pos : nullptr;
    // Idempotency: the same (uri, val, neg) as the current entry, or a negation of a value the
    // subject never had, changes nothing and is skipped.
    if (old ? old->neg == f.neg : f.neg) {
        ++I.skipped;
        return 0;
    }
    const std::uint64_t seq = I.base_seq + I.entries.size() + 1;
    if (old) {
        // The old entry leaves `current` (the state below now points at the new one); its log
        // entry stays for replay. An entry of this very batch never reaches `current` at all.
        if (old->seq > I.base_seq) I.current.erase(old->seq);
        else I.current.insert_or_assign(old->seq, std::nullopt);
        if (!old->neg) --I.d_current;
    }
    if (!f.neg) ++I.d_current;
    if (std::find(I.new_sources.begin(), I.new_sources.end(), f.src) == I.new_sources.end() &&
        !I.store->knows_source(f.src))
        I.new_sources.push_back(f.src);

    // The log value itself is written at commit: the encoding may come later (set_encoding).
    I.current.emplace_hint(I.current.end(), seq, keys::current_value(f.uri, f.src));

    held_label h{f.val, seq, f.cts, f.neg, f.exp};
    if (old) *old = std::move(h);
    else labels.insert(pos, std::move(h));
    (*cs)->dirty = true;

    I.entries.push_back(std::make_shared<log_entry>(log_entry{seq, std::move(cbor)}));
    return seq;
}

bool write_batch::set_encoding(std::uint64_t seq, std::string cbor) {
    auto& I = *impl_;
    if (seq <= I.base_seq || seq > I.base_seq + I.entries.size() || cbor.empty()) return false;
    auto& e = *I.entries[seq - I.base_seq - 1];
    if (!e.cbor.empty()) return false;
    e.cbor = std::move(cbor);
    return true;
}

void write_batch::set_cursor(std::string_view source, std::uint64_t cursor) {
    auto& cs = impl_->cursors;
    for (auto& [s, c] : cs)
        if (s == source) {
            c = cursor;
            return;
        }
    cs.emplace_back(std::string(source), cursor);
}

std::size_t write_batch::appended() const { return impl_->entries.size(); }
std::size_t write_batch::rejected() const { return impl_->rejected; }
std::size_t write_batch::skipped() const { return impl_->skipped; }

bool write_batch::empty() const {
    return impl_->entries.empty() && impl_->ops == 0 && impl_->cursors.empty();
}

// ------------------------------------------------------------------------------------------

label_store::label_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
label_store::~label_store() = default;

result<std::unique_ptr<label_store>> label_store::open(const store_options& options,
                                                       prometheus::Registry* registry) {
    namespace fs = std::filesystem;
    const std::string where = options.path.string();
    const auto& want = options.expected;
    const bool want_empty =
        want.environment.empty() && want.labeler_did.empty() && want.key_fingerprint.empty();
    if (!options.read_only &&
        (want.environment.empty() || want.labeler_did.empty() || want.key_fingerprint.empty()))
        return invalid(fmt::format("opening data folder {}: the expected stamp must name the "
                                   "environment, the labeler DID and the key", where));
    if (options.sync == store_options::sync_mode::interval && options.sync_interval.count() <= 0)
        return invalid("storage sync interval must be positive");

    std::error_code ec;
    const bool exists = fs::exists(options.path / "CURRENT", ec);
    if (!exists) {
        if (options.read_only || !options.create_if_missing)
            return error(int(store_errc::not_found),
                         fmt::format("data folder {} holds no label store", where));
        if (fs::exists(options.path, ec) && !fs::is_empty(options.path, ec))
            return invalid(fmt::format("data folder {} is not empty but holds no label store; "
                                       "refusing to create one there", where));
        fs::create_directories(options.path, ec);
        if (ec) return error(int(store_errc::io),
                             fmt::format("creating data folder {}: {}", where, ec.message()));
    }

    auto I = std::make_unique<impl>();
    I->opts = options;
    I->cache = rocksdb::NewLRUCache(std::max<std::size_t>(options.block_cache_bytes, 1u << 20));

    rocksdb::DBOptions dbo;
    dbo.create_if_missing = !options.read_only;
    dbo.create_missing_column_families = !options.read_only;
    dbo.max_background_jobs = 2;
    dbo.bytes_per_sync = 1 << 20;
    dbo.max_total_wal_size = 256u << 20;
    dbo.max_log_file_size = 8u << 20;
    dbo.keep_log_file_num = 3;
    dbo.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
    dbo.recycle_log_file_num = 2;  // reused WAL files: fdatasync without inode updates

    auto table = [&](bool bloom, std::size_t block_size) {
        rocksdb::BlockBasedTableOptions t;
        t.block_cache = I->cache;
        t.block_size = block_size;
        if (bloom) t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
        return rocksdb::NewBlockBasedTableFactory(t);
    };
    std::vector<rocksdb::ColumnFamilyDescriptor> descs;
    // The empty prefix: every key of a column family shares one memtable insert hint.
    std::shared_ptr<const rocksdb::SliceTransform> insert_hint(rocksdb::NewFixedPrefixTransform(0));
    for (std::size_t i = 0; i < cf_count; ++i) {
        rocksdb::ColumnFamilyOptions co;
        co.level_compaction_dynamic_level_bytes = true;
        // Bloom filters where point lookups happen (`current` and `log` are read in seq-ordered
        // scans, and their point reads are hits, which a filter does not speed up).
        const bool point = i == cf_state || i == cf_meta;
        co.table_factory.reset(table(point, i == cf_log ? 16 * 1024 : 4 * 1024));
        co.write_buffer_size = (i == cf_log ? 64u : 16u) << 20;
        if (point) {
            // A bloom filter over the memtable too: most writer lookups (new follower, new
            // subject) are misses, which then skip the skiplist search.
            co.memtable_whole_key_filtering = true;
            co.memtable_prefix_bloom_size_ratio = 0.05;
        }
        // A batch writes each column family's keys in ascending order (write_batch::impl::
        // write_to); with one insert hint per memtable, each insert continues the skiplist
        // search from where the previous one ended instead of from the top (-18% instructions
        // on the commit thread, callgrind, bench_storage 100000).
        co.memtable_insert_with_hint_prefix_extractor = insert_hint;
        descs.emplace_back(kCfNames[i], co);
    }

    rocksdb::Status s;
    if (options.read_only) {
        std::vector<std::string> existing;
        s = rocksdb::DB::ListColumnFamilies(dbo, where, &existing);
        if (!s.ok()) return io_error(fmt::format("opening data folder {}", where), s);
        for (auto& d : descs)
            if (std::find(existing.begin(), existing.end(), d.name) == existing.end())
                return corrupt(fmt::format("data folder {} is not a label store (no column family "
                                           "\"{}\")", where, d.name));
        s = rocksdb::DB::OpenForReadOnly(dbo, where, descs, &I->cfs, &I->db);
    } else {
        // An older folder still has column families this schema dropped; they must be opened
        // to open the database at all, and are upgraded from and dropped below.
        std::vector<std::string> existing;
        if (exists && rocksdb::DB::ListColumnFamilies(dbo, where, &existing).ok())
            for (auto* name : kLegacyCfNames)
                if (std::find(existing.begin(), existing.end(), name) != existing.end())
                    descs.emplace_back(name, rocksdb::ColumnFamilyOptions());
        s = rocksdb::DB::Open(dbo, where, descs, &I->cfs, &I->db);
    }
    if (!s.ok()) {
        I->db = nullptr;
        I->cfs.clear();
        if (s.IsIOError() && s.ToString().find("lock") != std::string::npos)
            return error(int(store_errc::locked),
                         fmt::format("data folder {} is in use by another process ({})", where,
                                     s.ToString()));
        if (s.IsCorruption())
            return corrupt(fmt::format("data folder {} is corrupt: {}", where, s.ToString()));
        return io_error(fmt::format("opening data folder {}", where), s);
    }

    // Schema and environment stamp.
    std::string schema, stamp_bytes;
    auto gs = I->db->Get(rocksdb::ReadOptions(), I->cf(cf_meta), sl(kMetaSchema), &schema);
    if (!gs.ok() && !gs.IsNotFound()) return io_error("reading meta/schema", gs);
    const bool has_schema = gs.ok();
    gs = I->db->Get(rocksdb::ReadOptions(), I->cf(cf_meta), sl(kMetaStamp), &stamp_bytes);
    if (!gs.ok() && !gs.IsNotFound()) return io_error("reading meta/stamp", gs);
    const bool has_stamp = gs.ok();
    if (has_schema != has_stamp)
        return corrupt(fmt::format("data folder {} has a {} but no {}", where,
                                   has_schema ? "schema version" : "stamp",
                                   has_schema ? "environment stamp" : "schema version"));
    const bool older = has_schema && (schema == keys::kSchemaVersion1 || schema == keys::kSchemaVersion2);
    if (older && options.read_only)
        return error(int(store_errc::corrupt),
                     fmt::format("data folder {} has schema version {}; open it once read-write "
                                 "with this build (e.g. start the labeler) to upgrade it to {}",
                                 where, schema, keys::kSchemaVersion));
    if (has_schema && !older && schema != keys::kSchemaVersion)
        return error(int(store_errc::corrupt),
                     fmt::format("data folder {} has schema version {}; this build reads {}",
                                 where, schema, keys::kSchemaVersion));
    if (has_stamp) {
        auto st = keys::decode_stamp(stamp_bytes);
        if (!st) return corrupt(fmt::format("data folder {}: {}", where, st.error().message));
        I->data_stamp = std::move(*st);
        const auto& have = I->data_stamp;
        if (!(options.read_only && want_empty)) {
            std::vector<std::string_view> differ;
            if (have.environment != want.environment) differ.push_back("environment");
            if (have.labeler_did != want.labeler_did) differ.push_back("labeler DID");
            if (have.key_fingerprint != want.key_fingerprint) differ.push_back("signing key");
            if (!differ.empty())
                return error(int(store_errc::stamp_mismatch),
                             fmt::format("data folder {} was created for {} but this profile is {}; "
                                         "{} differ{}; refusing to mix environments",
                                         where, stamp_text(have), stamp_text(want),
                                         fmt::join(differ, ", "), differ.size() == 1 ? "s" : ""));
        }
    } else if (options.read_only) {
        return corrupt(fmt::format("data folder {} has no environment stamp", where));
    } else {
        rocksdb::WriteBatch b;
        b.Put(I->cf(cf_meta), sl(kMetaSchema), sl(keys::kSchemaVersion));
        b.Put(I->cf(cf_meta), sl(kMetaStamp), sl(keys::encode_stamp(want)));
        rocksdb::WriteOptions wo;
        wo.sync = true;
        auto ws = I->db->Write(wo, &b);
        if (!ws.ok()) return io_error(fmt::format("stamping data folder {}", where), ws);
        I->data_stamp = want;
        kLog.info("created data folder {} for {}", where, stamp_text(want));
    }

    if (has_schema && schema == keys::kSchemaVersion1)
        if (auto up = I->upgrade_schema1(); !up) return up.error();
    if (has_schema && schema != keys::kSchemaVersion)
        if (auto up = I->upgrade_schema2(); !up) return up.error();
    if (I->cfs.size() > cf_count)
        if (auto up = I->drop_legacy(); !up) return up.error();
    {
        std::unique_ptr<rocksdb::Iterator> it(
            I->db->NewIterator(rocksdb::ReadOptions(), I->cf(cf_meta)));
        for (it->Seek(sl(keys::kSourcePrefix));
             it->Valid() && it->key().starts_with(sl(keys::kSourcePrefix)); it->Next())
            I->sources.emplace_back(sv(it->key()).substr(keys::kSourcePrefix.size()));
        if (!it->status().ok()) return io_error("reading meta/src/", it->status());
    }

    for (auto [key, dst] : {std::pair{kMetaLastSeq, &I->last_seq}, std::pair{kMetaLogCount, &I->n_log},
                            std::pair{kMetaCurrentCount, &I->n_current},
                            std::pair{kMetaFollowCount, &I->n_follows}}) {
        auto v = I->read_counter(key);
        if (!v) return v.error();
        dst->store(*v);
    }

    if (registry) I->metrics = std::make_unique<probe>(*registry);
    I->refresh_gauges(true);
    I->next_base = I->last_seq.load();
    if (!options.read_only)
        I->committer = std::thread([p = I.get()] {
            name_this_thread("commit");
            p->commit_loop();
        });
    if (!options.read_only && options.sync == store_options::sync_mode::interval)
        I->syncer = std::thread([p = I.get()] {
            name_this_thread("wal-sync");
            p->sync_loop();
        });
    kLog.info("opened data folder {} ({}): last seq {}, {} follow records", where,
              stamp_text(I->data_stamp), I->last_seq.load(), I->n_follows.load());
    return std::unique_ptr<label_store>(new label_store(std::move(I)));
}

write_batch label_store::begin() {
    auto& S = *impl_;
    auto p = std::make_unique<write_batch::impl>();
    p->store = &S;
    p->base_seq = S.next_base;
    if (S.tail) {
        bool in_flight;
        {
            std::lock_guard lk(S.commit_mu);
            in_flight = S.job.has_value();
        }
        if (in_flight) p->parent = S.tail;
        else S.tail.reset();  // written: the store itself has it
    }
    return write_batch(std::move(p));
}

result<void> label_store::commit_async(write_batch&& batch, commit_callback done) {
    auto& S = *impl_;
    if (!batch.impl_) return invalid("commit of a moved-from write batch");
    auto& B = *batch.impl_;
    if (B.store != &S) return invalid("commit of a write batch begun on another store");
    if (S.opts.read_only)
        return error(int(store_errc::read_only), "the label store is open read-only");
    if (B.err) return *B.err;
    S.wait_idle();  // the previous batch is written: counters and last_seq include it
    if (S.failed)
        return error(int(store_errc::failed),
                     "the label store refuses commits after an earlier write failure");
    if (B.base_seq != S.last_seq.load())
        return invalid(fmt::format("write batch begun at seq {} but the store is at {}: batches "
                                   "must be committed one at a time", B.base_seq, S.last_seq.load()));
    if (batch.empty()) {
        done(std::vector<shared_entry>{});
        return {};
    }
    for (auto& e : B.entries)
        if (e->cbor.empty())
            return invalid(fmt::format("label {} was appended without its encoding", e->seq));
    if (!B.new_sources.empty()) {
        // Known before the write (see impl::sources); a failed write leaves a source without
        // labels in the list, which only costs a query a filter pass.
        std::lock_guard lk(S.sources_mu);
        for (auto& src : B.new_sources)
            if (std::find(S.sources.begin(), S.sources.end(), src) == S.sources.end())
                S.sources.push_back(src);
    }

    label_store::impl::commit_job j{
        rocksdb::WriteBatch(B.entries.size() * 320 + B.states.size() * 96 + 256), {}, 0, 0, 0, 0,
        std::move(done)};
    B.write_to(j.wb);
    j.last_seq = B.base_seq + B.entries.size();
    j.n_log = S.n_log.load() + B.entries.size();
    j.n_current = std::uint64_t(std::int64_t(S.n_current.load()) + B.d_current);
    j.n_follows = std::uint64_t(std::int64_t(S.n_follows.load()) + B.d_follows);
    if (!B.entries.empty()) {
        j.wb.Put(S.cf(cf_meta), sl(kMetaLastSeq), sl(keys::be8(j.last_seq)));
        j.wb.Put(S.cf(cf_meta), sl(kMetaLogCount), sl(keys::be8(j.n_log)));
        j.wb.Put(S.cf(cf_meta), sl(kMetaCurrentCount), sl(keys::be8(j.n_current)));
    }
    if (B.d_follows != 0)
        j.wb.Put(S.cf(cf_meta), sl(kMetaFollowCount), sl(keys::be8(j.n_follows)));
    j.entries.reserve(B.entries.size());
    for (auto& e : B.entries) j.entries.push_back(std::move(e));
    B.entries.clear();

    S.next_base = j.last_seq;
    std::shared_ptr<write_batch::impl> handed = std::move(batch.impl_);
    handed->parent.reset();  // written before this one: no longer needed to read through
    S.tail = std::move(handed);
    {
        std::lock_guard lk(S.commit_mu);
        S.job.emplace(std::move(j));
    }
    S.commit_cv.notify_all();
    return {};
}

result<std::vector<shared_entry>> label_store::commit(write_batch&& batch) {
    std::promise<result<std::vector<shared_entry>>> p;
    auto f = p.get_future();
    auto queued = commit_async(std::move(batch), [&p](result<std::vector<shared_entry>> r) {
        p.set_value(std::move(r));
    });
    if (!queued) return queued.error();
    return f.get();
}

void label_store::drain() { impl_->wait_idle(); }

std::uint64_t label_store::last_seq() const { return impl_->last_seq.load(); }

std::optional<std::uint64_t> label_store::cursor(std::string_view source) const {
    std::string v;
    auto s = impl_->db->Get(rocksdb::ReadOptions(), impl_->cf(cf_meta), sl(keys::cursor_key(source)),
                            &v);
    if (!s.ok()) {
        if (!s.IsNotFound()) kLog.error("reading cursor {}: {}", source, s.ToString());
        return std::nullopt;
    }
    auto c = keys::read_be8(v);
    if (!c) kLog.error("corrupt cursor meta/cursor/{} ({} bytes)", source, v.size());
    return c;
}

result<std::vector<log_entry>> label_store::read_log(std::uint64_t after_seq,
                                                     std::size_t max) const {
    std::vector<log_entry> out;
    if (max == 0 || after_seq == UINT64_MAX) return out;
    out.reserve(std::min<std::size_t>(max, 4096));
    rocksdb::ReadOptions ro;
    if (max > 1000) ro.readahead_size = 2u << 20;
    std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro, impl_->cf(cf_log)));
    for (it->Seek(sl(keys::be8(after_seq + 1))); it->Valid() && out.size() < max; it->Next()) {
        auto seq = keys::read_be8(sv(it->key()));
        if (!seq) return corrupt(fmt::format("corrupt log key of {} bytes", it->key().size()));
        out.push_back(log_entry{*seq, it->value().ToString()});
    }
    if (!it->status().ok()) return io_error("reading the label log", it->status());
    return out;
}

result<void> label_store::query_each(const query_request& q, query_visitor& visit) const {
    auto& S = *impl_;
    if (q.patterns.empty()) return invalid("queryLabels needs at least one uri pattern");
    if (q.limit == 0 || q.limit > 10000) return invalid("queryLabels limit out of range");
    for (auto& p : q.patterns) {
        auto star = p.find('*');
        if (star != std::string::npos && star + 1 != p.size())
            return invalid(fmt::format("invalid pattern \"{}\": '*' is only allowed at the end", p));
        if (!keys::key_safe(p)) return invalid("invalid pattern: contains a NUL byte");
    }
    for (auto& s : q.sources)
        if (!keys::key_safe(s)) return invalid("invalid source: contains a NUL byte");
    if (q.after_seq == UINT64_MAX) {
        visit.begin(std::nullopt);
        return {};
    }

    const std::size_t want = q.limit + 1;  // one more than asked: tells whether more follow
    const std::uint64_t from = q.after_seq + 1;

    const rocksdb::Snapshot* snap = S.db->GetSnapshot();
    struct release {
        rocksdb::DB* db;
        const rocksdb::Snapshot* s;
        ~release() { db->ReleaseSnapshot(s); }
    } release_snap{S.db, snap};
    rocksdb::ReadOptions base;
    base.snapshot = snap;

    // Sources: only those with labels here matter (read after the snapshot, so none of its
    // sources is missing). None of them asked for: nothing matches. All of them: no filter.
    std::vector<std::string> only;  // the sources to keep; empty = keep all
    if (!q.sources.empty()) {
        bool all = true;
        for (auto& k : S.known_sources())
            if (std::find(q.sources.begin(), q.sources.end(), k) != q.sources.end())
                only.push_back(k);
            else
                all = false;
        if (only.empty()) {
            visit.begin(std::nullopt);
            return {};
        }
        if (all) only.clear();
    }
    auto source_ok = [&](std::string_view src) {
        return only.empty() || std::find(only.begin(), only.end(), src) != only.end();
    };

    std::vector<std::uint64_t> seqs;
    // Scans [lower, upper) of `id`; `take` returns false to stop. Returns the iterator status.
    auto scan = [&](cf_id id, std::string_view lower, const std::optional<std::string>& upper,
                    auto&& take) -> rocksdb::Status {
        rocksdb::ReadOptions ro = base;
        rocksdb::Slice ub;
        if (upper) {
            ub = sl(*upper);
            ro.iterate_upper_bound = &ub;
        }
        std::unique_ptr<rocksdb::Iterator> it(S.db->NewIterator(ro, S.cf(id)));
        for (it->Seek(sl(lower)); it->Valid(); it->Next())
            if (!take(sv(it->key()), sv(it->value()))) break;
        return it->status();
    };
    // `current` from seq `start`, filtered by a URI prefix (empty = all) and the sources, adding
    // to `out` until it holds `want` seqs, the end is reached, or `max_steps` keys were read.
    // Returns true when finished (not stopped by max_steps); `start` becomes the resume point.
    auto scan_current = [&](std::string_view prefix, std::vector<std::uint64_t>& out,
                            std::uint64_t& start, std::size_t max_steps,
                            rocksdb::Status& status) {
        std::size_t steps = 0;
        bool stopped = false;
        status = scan(cf_current, keys::be8(start), std::nullopt, [&](auto k, auto v) {
            if (steps++ == max_steps) {
                stopped = true;
                return false;
            }
            auto seq = keys::read_be8(k);
            auto parts = keys::split_current(v);
            if (!seq || !parts) return true;  // skip malformed: never crash on bad data
            start = *seq + 1;
            if (parts->first.starts_with(prefix) && source_ok(parts->second)) out.push_back(*seq);
            return out.size() < want;
        });
        return !stopped;
    };
    constexpr std::size_t unbounded = SIZE_MAX;
    // The current entries (one per value) of the subject whose state record is `v`, from `from`.
    std::optional<error> bad_state;
    auto held_seqs = [&](std::string_view uri, std::string_view v, std::vector<std::uint64_t>& out) {
        auto st = keys::decode_state(v, uri, keys::state_parts::labels);
        if (!st) {
            bad_state = st.error();
            return false;
        }
        for (auto& l : st->labels)
            if (l.seq >= from) out.push_back(l.seq);
        return true;
    };
    // Keeps the seqs whose source is asked for (`state` does not record sources; `current`
    // does). Only runs when a source filter is in force, i.e. the store has several sources.
    auto keep_sources = [&](std::vector<std::uint64_t>& v) -> rocksdb::Status {
        if (only.empty() || v.empty()) return rocksdb::Status::OK();
        std::sort(v.begin(), v.end());
        std::vector<std::string> kb;
        kb.reserve(v.size());
        for (auto x : v) kb.push_back(keys::be8(x));
        std::vector<rocksdb::Slice> ks(kb.begin(), kb.end());
        std::vector<rocksdb::PinnableSlice> vals(v.size());
        std::vector<rocksdb::Status> sts(v.size());
        S.db->MultiGet(base, S.cf(cf_current), v.size(), ks.data(), vals.data(), sts.data(), true);
        std::size_t n = 0;
        for (std::size_t i = 0; i < v.size(); ++i) {
            if (!sts[i].ok() && !sts[i].IsNotFound()) return sts[i];
            auto parts = sts[i].ok() ? keys::split_current(sv(vals[i])) : std::nullopt;
            if (parts && source_ok(parts->second)) v[n++] = v[i];
        }
        v.resize(n);
        return rocksdb::Status::OK();
    };
    // Sorted, at most `want`.
    auto first_want = [&](std::vector<std::uint64_t>& v) {
        std::sort(v.begin(), v.end());
        if (v.size() > want) v.resize(want);
    };

    const bool everything = std::find(q.patterns.begin(), q.patterns.end(), "*") != q.patterns.end();
    rocksdb::Status st;
    if (everything) {
        std::uint64_t start = from;
        scan_current("", seqs, start, unbounded, st);
    } else {
        for (auto& p : q.patterns) {
            std::vector<std::uint64_t> found;
            if (p.ends_with('*')) {
                // Prefix: plans that all give the same answer, tried cheapest-first.
                // (1) The `state` range, if it is small (narrow prefixes, e.g. one account).
                // (2) A short probe of `current` in seq order: answers at once when matches are
                //     dense (wide prefixes like "did:*").
                // (3) The rest of the range, up to kPrefixRangeBudget subjects in all.
                // (4) Otherwise the seq-ordered scan resumes where the probe stopped.
                std::string_view prefix(p.data(), p.size() - 1);
                const auto range_end = keys::prefix_successor(prefix);
                std::string range_next(prefix);  // where the range scan resumes
                std::vector<std::uint64_t> range;
                std::size_t scanned = 0;
                auto scan_range = [&](std::size_t budget, bool& complete) {
                    complete = true;
                    return scan(cf_state, range_next, range_end, [&](auto k, auto v) {
                        if (scanned == budget) {
                            complete = false;
                            range_next.assign(k);
                            return false;
                        }
                        ++scanned;
                        return held_seqs(k, v, range);
                    });
                };
                bool complete = false;
                std::uint64_t start = from;
                st = scan_range(kNarrowRange, complete);
                if (st.ok() && !bad_state && !complete &&
                    !scan_current(prefix, found, start, kDenseProbe, st) && st.ok()) {
                    st = scan_range(kPrefixRangeBudget, complete);
                    if (st.ok() && !bad_state && !complete)
                        scan_current(prefix, found, start, unbounded, st);
                }
                if (st.ok() && complete) {
                    st = keep_sources(range);
                    first_want(range);
                    found = std::move(range);
                }
            } else {
                std::string v;
                st = S.db->Get(base, S.cf(cf_state), sl(p), &v);
                if (st.IsNotFound()) st = rocksdb::Status::OK();
                else if (st.ok() && held_seqs(p, v, found)) st = keep_sources(found);
                first_want(found);
            }
            if (!st.ok() || bad_state) break;
            seqs.insert(seqs.end(), found.begin(), found.end());
        }
    }
    if (bad_state) return *bad_state;
    if (!st.ok()) return io_error("queryLabels scan", st);

    std::sort(seqs.begin(), seqs.end());
    seqs.erase(std::unique(seqs.begin(), seqs.end()), seqs.end());
    std::optional<std::uint64_t> next_cursor;
    if (seqs.size() > q.limit) {
        seqs.resize(q.limit);
        next_cursor = seqs.back();
    }
    visit.begin(next_cursor);
    std::erase_if(seqs, [&](std::uint64_t seq) { return visit.have(seq); });
    if (seqs.empty()) return {};

    auto missing = [&](std::uint64_t seq) {
        return corrupt(fmt::format("index points at log entry {} which does not exist", seq));
    };
    if (seqs.back() - seqs.front() < 4 * seqs.size()) {
        // Dense (typical of `*` and wide prefixes): one ordered pass over the log range reads
        // far fewer index blocks than a point lookup per entry.
        rocksdb::ReadOptions ro = base;
        const std::string upper = keys::be8(seqs.back() + 1);
        rocksdb::Slice ub(upper);
        ro.iterate_upper_bound = &ub;
        std::unique_ptr<rocksdb::Iterator> it(S.db->NewIterator(ro, S.cf(cf_log)));
        std::size_t i = 0;
        for (it->Seek(sl(keys::be8(seqs.front()))); it->Valid() && i < seqs.size(); it->Next()) {
            auto seq = keys::read_be8(sv(it->key()));
            if (!seq) return corrupt(fmt::format("corrupt log key of {} bytes", it->key().size()));
            if (*seq < seqs[i]) continue;
            if (*seq > seqs[i]) return missing(seqs[i]);
            visit.label(*seq, sv(it->value()));
            ++i;
        }
        if (!it->status().ok()) return io_error("reading the label log", it->status());
        if (i < seqs.size()) return missing(seqs[i]);
        return {};
    }
    std::vector<std::string> key_bytes;
    key_bytes.reserve(seqs.size());
    for (auto s : seqs) key_bytes.push_back(keys::be8(s));
    std::vector<rocksdb::Slice> key_slices(key_bytes.begin(), key_bytes.end());
    std::vector<rocksdb::PinnableSlice> values(seqs.size());
    std::vector<rocksdb::Status> statuses(seqs.size());
    S.db->MultiGet(base, S.cf(cf_log), seqs.size(), key_slices.data(), values.data(),
                   statuses.data(), /*sorted_input=*/true);
    for (std::size_t i = 0; i < seqs.size(); ++i) {
        if (statuses[i].IsNotFound()) return missing(seqs[i]);
        if (!statuses[i].ok()) return io_error(fmt::format("reading log entry {}", seqs[i]), statuses[i]);
        visit.label(seqs[i], sv(values[i]));
    }
    return {};
}

result<query_response> label_store::query(const query_request& q) const {
    struct collect : query_visitor {
        query_response r;
        void begin(std::optional<std::uint64_t> next) override { r.next_cursor = next; }
        void label(std::uint64_t seq, std::string_view cbor) override {
            r.labels.push_back(log_entry{seq, std::string(cbor)});
        }
    } c;
    auto ok = query_each(q, c);
    if (!ok) return ok.error();
    return std::move(c.r);
}

result<subject_state> label_store::state(std::string_view uri) const {
    if (!keys::key_safe(uri)) return invalid("subject URI contains a NUL byte");
    std::string v;
    auto s = impl_->db->Get(rocksdb::ReadOptions(), impl_->cf(cf_state), sl(uri), &v);
    if (s.IsNotFound()) return subject_state{};
    if (!s.ok()) return io_error(fmt::format("reading state of \"{}\"", uri), s);
    return keys::decode_state(v, uri);
}

result<std::vector<std::string>> label_store::followers(std::string_view after,
                                                        std::size_t max) const {
    std::vector<std::string> out;
    if (max == 0) return out;
    std::unique_ptr<rocksdb::Iterator> it(
        impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->cf(cf_state)));
    if (after.empty()) it->SeekToFirst();
    else it->Seek(sl(std::string(after) + '\0'));  // the first key after `after`
    for (; it->Valid() && out.size() < max; it->Next()) {
        auto st = keys::decode_state(sv(it->value()), sv(it->key()));
        if (!st) return st.error();
        if (!st->follows.empty()) out.emplace_back(sv(it->key()));
    }
    if (!it->status().ok()) return io_error("listing followers", it->status());
    return out;
}

store_stats label_store::stats() const {
    store_stats s;
    s.last_seq = impl_->last_seq.load();
    s.log_entries = impl_->n_log.load();
    s.current_labels = impl_->n_current.load();
    s.follow_records = impl_->n_follows.load();
    s.disk_bytes = directory_bytes(impl_->opts.path);
    return s;
}

const stamp& label_store::data_stamp() const { return impl_->data_stamp; }

bool label_store::wait_for_compactions(std::chrono::milliseconds timeout) const {
    auto& S = *impl_;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto busy = [&] {
        std::uint64_t v = 0;
        if (S.db->GetIntProperty("rocksdb.num-running-compactions", &v) && v) return true;
        if (S.db->GetIntProperty("rocksdb.num-running-flushes", &v) && v) return true;
        for (auto* cf : S.cfs)
            if (S.db->GetIntProperty(cf, "rocksdb.mem-table-flush-pending", &v) && v) return true;
        for (auto* cf : S.cfs)
            if (S.db->GetIntProperty(cf, "rocksdb.compaction-pending", &v) && v) return true;
        return false;
    };
    while (busy()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
}

result<void> label_store::flush() {
    if (impl_->opts.read_only) return {};
    impl_->wait_idle();
    auto s = impl_->db->FlushWAL(true);
    if (!s.ok()) return io_error("syncing the WAL", s);
    return {};
}

}  // namespace labeler::storage
