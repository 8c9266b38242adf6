#pragma once
// decide: the labelling rules. Given one event and a view of the current state (the store seen
// through the writer's batch overlay, so event N sees the effects of events 0..N-1), returns
// what to change: follow records, account status, labels to issue or negate. Pure: no I/O of its
// own, no clock; the label value is drawn with an injected RNG so tests are deterministic.
//
// Rules: a follow of the labeler records (follower, rkey) and, unless the account is inactive or
// already holds one of our labels, issues a label with a weighted random value. A delete of a
// known record removes it; once the follower's last record is gone (checked at the end of the
// frame, so a PDS's [delete old, create new] changes nothing) every value it holds is negated.
// deactivated/deleted/takendown/suspended accounts that we track lose their labels; when such an
// account is active again and still has follow records it gets a new label. Replays (events at or
// before the committed cursor) only apply deletes of records still known; see docs/pipeline.md.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/event.hpp"
#include "src/common/result.hpp"
#include "storage/label_store.hpp"
#include "storage/types.hpp"

namespace labeler::pipeline {

// The state decide reads. The writer implements it over storage::write_batch.
class state_view {
public:
    virtual ~state_view() = default;
    virtual result<std::optional<std::string>> follow_subject(std::string_view follower,
                                                              std::string_view rkey) = 0;
    virtual result<std::size_t> follow_count(std::string_view follower) = 0;
    virtual result<storage::subject_state> state(std::string_view uri) = 0;
    virtual result<storage::account_status> account(std::string_view did) = 0;
};

// state_view over a write batch (reads see the batch's own writes).
class batch_view final : public state_view {
public:
    explicit batch_view(storage::write_batch& b) : b_(b) {}
    result<std::optional<std::string>> follow_subject(std::string_view follower,
                                                      std::string_view rkey) override {
        return b_.follow_subject(follower, rkey);
    }
    result<std::size_t> follow_count(std::string_view follower) override {
        return b_.follow_count(follower);
    }
    result<storage::subject_state> state(std::string_view uri) override { return b_.state(uri); }
    result<storage::account_status> account(std::string_view did) override {
        return b_.account(did);
    }

private:
    storage::write_batch& b_;
};

struct label_change {
    std::string uri;                     // the follower DID
    std::string val;
    bool neg = false;
    std::optional<std::string> prev_cts; // latest cts of (uri, val): the new cts must be later
};

struct actions {
    enum class follow_op : std::uint8_t { none, put, remove } follow = follow_op::none;
    std::string did, rkey, subject;                     // for follow put/remove
    std::optional<storage::account_status> set_account; // for `did`
    std::vector<label_change> labels;
    bool unfollow_check = false;  // last record removed: call settle_unfollow at the frame's end
    bool matched = false;         // a new follow record of the labeler
    bool skipped_replay = false;  // ignored because it was processed before
};

struct weighted_value {
    std::string id;
    std::uint32_t weight = 1;
};

class decider {
public:
    using rng_fn = std::function<std::uint64_t()>;
    // `values` must be non-empty with weights >= 1 (validated by config).
    decider(std::vector<weighted_value> values, rng_fn rng);

    // Decides one event. `replay`: its cursor is at or before the committed cursor.
    result<actions> operator()(const event& ev, state_view& view, bool replay);
    // End of a frame: negations for `did` if it has no follow records left (else none).
    result<std::vector<label_change>> settle_unfollow(std::string_view did, state_view& view);
    // Draws a value (weighted).
    const std::string& pick();

private:
    result<actions> on_create(const event& ev, state_view& view, bool replay);
    result<actions> on_delete(const event& ev, state_view& view);
    result<actions> on_account(const event& ev, state_view& view, bool replay);
    void issue(actions& a, std::string_view did, const storage::subject_state& st);

    std::vector<weighted_value> values_;
    std::uint64_t total_weight_ = 0;
    rng_fn rng_;
};

}  // namespace labeler::pipeline
