#include "pipeline/writer.hpp"

#include <algorithm>

#include "src/atproto/datetime.hpp"
#include "src/atproto/label.hpp"

namespace labeler::pipeline {

writer::writer(storage::label_store& store, storage::label_sink& sink,
               const atproto::private_key& key, std::string labeler_did, std::string source_key,
               decider decide, probe* p)
    : store_(store),
      sink_(sink),
      key_(key),
      labeler_did_(std::move(labeler_did)),
      source_key_(std::move(source_key)),
      decide_(std::move(decide)),
      probe_(p),
      signer_(key) {
    if (auto c = store_.cursor(source_key_)) {
        high_water_ = *c;
        position_ = *c;
        queued_high_water_ = *c;
    }
}

writer::~writer() { finish(); }

void writer::finish() { store_.drain(); }

std::optional<std::uint64_t> writer::committed_cursor() const {
    auto v = high_water_.load();
    return v == none ? std::nullopt : std::optional(v);
}

std::optional<std::uint64_t> writer::position() const {
    auto v = position_.load();
    return v == none ? std::nullopt : std::optional(v);
}

void writer::append(storage::write_batch& b, const label_change& c,
                    std::chrono::system_clock::time_point now, batch_stats& st) {
    using namespace std::chrono;
    auto t = floor<milliseconds>(now);
    if (c.prev_cts) {
        // cts must be strictly later than the previous entry's for (uri, val).
        if (auto prev = atproto::parse_datetime_ms(*c.prev_cts); prev && t <= *prev)
            t = *prev + milliseconds(1);
    }
    sign_job job;
    auto& l = job.label;
    l.ver = 1;
    l.src = labeler_did_;
    l.uri = c.uri;
    l.val = c.val;
    l.neg = c.neg;
    l.cts = atproto::format_datetime(t);
    storage::label_fields f;
    f.src = l.src;
    f.uri = l.uri;
    f.val = l.val;
    f.neg = l.neg;
    f.cts = l.cts;
    job.seq = b.append(f, {});
    if (job.seq == 0) return;  // the store skipped it (changes nothing) or refused it
    (c.neg ? st.negated : st.issued)++;
    jobs_.push_back(std::move(job));
}

result<batch_stats> writer::process(std::span<frame_item> frames,
                                    std::chrono::system_clock::time_point now) {
    batch_stats st;
    st.frames = frames.size();
    jobs_.clear();
    auto b = store_.begin();
    batch_view view(b);
    auto hw = queued_high_water_;
    std::optional<std::uint64_t> cursor;
    std::int64_t last_time = 0;
    std::vector<std::string> unfollowed;

    for (auto& fr : frames) {
        bool replay = fr.has_cursor && hw && fr.cursor <= *hw;
        unfollowed.clear();
        for (auto& ev : fr.events) {
            auto a = decide_(ev, view, replay);
            if (!a) return a.error();
            if (a->skipped_replay) ++st.skipped;
            switch (a->follow) {
                case actions::follow_op::put: b.put_follow(a->did, a->rkey, a->subject); break;
                case actions::follow_op::remove: b.delete_follow(a->did, a->rkey); break;
                case actions::follow_op::none: break;
            }
            if (a->set_account) b.set_account(a->did, *a->set_account);
            for (auto& c : a->labels) append(b, c, now, st);
            if (a->unfollow_check &&
                std::find(unfollowed.begin(), unfollowed.end(), a->did) == unfollowed.end())
                unfollowed.push_back(a->did);
        }
        for (auto& did : unfollowed) {
            auto negs = decide_.settle_unfollow(did, view);
            if (!negs) return negs.error();
            for (auto& c : *negs) append(b, c, now, st);
        }
        if (fr.has_cursor) cursor = fr.cursor;
        if (fr.time_us) last_time = fr.time_us;
    }
    signer_.sign_all(jobs_);
    for (auto& j : jobs_)
        if (!b.set_encoding(j.seq, std::move(j.cbor)))
            return fail("internal: label " + std::to_string(j.seq) + " could not be encoded");
    std::optional<std::uint64_t> stored;
    if (cursor) {
        stored = hw ? std::max(*hw, *cursor) : *cursor;
        b.set_cursor(source_key_, *stored);
    }
    if (b.empty()) return st;
    const std::size_t n_frames = frames.size();
    auto done = [this, st, stored, cursor, last_time,
                 n_frames](result<std::vector<storage::shared_entry>> entries) {
        if (!entries) {
            if (on_failure_) on_failure_(entries.error());
            return;
        }
        if (stored) {
            high_water_ = *stored;
            position_ = *cursor;
        }
        if (probe_) {
            probe_->batch(double(n_frames));
            if (st.issued) probe_->labels_issued(double(st.issued));
            if (st.negated) probe_->labels_negated(double(st.negated));
            if (st.skipped) probe_->replays_skipped(double(st.skipped));
            if (stored) probe_->cursor(double(*stored));
            if (last_time) {
                auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::system_clock::now().time_since_epoch()).count();
                probe_->source_lag(double(now_us - last_time) / 1e6);
            }
        }
        if (!entries->empty()) sink_.publish(std::move(*entries));
    };
    auto queued = store_.commit_async(std::move(b), std::move(done));
    if (!queued) return queued.error();
    if (stored) queued_high_water_ = *stored;
    st.committed = true;
    return st;
}

}  // namespace labeler::pipeline
