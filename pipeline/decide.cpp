#include "pipeline/decide.hpp"

#include <cassert>

namespace labeler::pipeline {

using storage::account_status;

decider::decider(std::vector<weighted_value> values, rng_fn rng)
    : values_(std::move(values)), rng_(std::move(rng)) {
    assert(!values_.empty());
    for (auto& v : values_) total_weight_ += std::max<std::uint32_t>(v.weight, 1);
}

const std::string& decider::pick() {
    std::uint64_t r = rng_() % total_weight_;
    for (auto& v : values_) {
        std::uint64_t w = std::max<std::uint32_t>(v.weight, 1);
        if (r < w) return v.id;
        r -= w;
    }
    return values_.back().id;
}

void decider::issue(actions& a, std::string_view did, const storage::subject_state& st) {
    label_change c;
    c.uri = did;
    c.val = pick();
    if (auto* prev = st.find(c.val)) c.prev_cts = prev->cts;
    a.labels.push_back(std::move(c));
}

result<actions> decider::operator()(const event& ev, state_view& view, bool replay) {
    switch (ev.kind) {
        case event_kind::follow_create: return on_create(ev, view, replay);
        case event_kind::follow_delete: return on_delete(ev, view);
        case event_kind::account_change: return on_account(ev, view, replay);
    }
    return actions{};
}

result<actions> decider::on_create(const event& ev, state_view& view, bool replay) {
    actions a;
    auto known = view.follow_subject(ev.did, ev.rkey);
    if (!known) return known.error();
    if (*known) return a;  // already recorded: replay or update of the same record
    if (replay) {          // created and since deleted (else it would be known): skip
        a.skipped_replay = true;
        return a;
    }
    a.follow = actions::follow_op::put;
    a.did = ev.did;
    a.rkey = ev.rkey;
    a.subject = ev.subject;
    a.matched = true;
    auto status = view.account(ev.did);
    if (!status) return status.error();
    if (*status != account_status::active) return a;
    auto st = view.state(ev.did);
    if (!st) return st.error();
    if (!st->held().empty()) return a;  // one label per follower
    issue(a, ev.did, *st);
    return a;
}

result<actions> decider::on_delete(const event& ev, state_view& view) {
    actions a;
    auto known = view.follow_subject(ev.did, ev.rkey);
    if (!known) return known.error();
    if (!*known) return a;  // not a follow of the labeler, or already deleted
    auto count = view.follow_count(ev.did);
    if (!count) return count.error();
    a.follow = actions::follow_op::remove;
    a.did = ev.did;
    a.rkey = ev.rkey;
    a.unfollow_check = *count <= 1;
    return a;
}

result<std::vector<label_change>> decider::settle_unfollow(std::string_view did,
                                                           state_view& view) {
    std::vector<label_change> out;
    auto count = view.follow_count(did);
    if (!count) return count.error();
    if (*count > 0) return out;
    auto st = view.state(did);
    if (!st) return st.error();
    for (auto* h : st->held()) out.push_back({std::string(did), h->val, true, h->cts});
    return out;
}

result<actions> decider::on_account(const event& ev, state_view& view, bool replay) {
    actions a;
    if (ev.transient) return a;
    if (replay) {  // a replayed [deactivate, activate] would re-draw the label
        a.skipped_replay = true;
        return a;
    }
    auto current = view.account(ev.did);
    if (!current) return current.error();
    if (ev.active) {
        if (*current == account_status::active) return a;  // nothing changed for us
        a.did = ev.did;
        a.set_account = account_status::active;
        auto count = view.follow_count(ev.did);
        if (!count) return count.error();
        if (*count == 0) return a;
        auto st = view.state(ev.did);
        if (!st) return st.error();
        if (st->held().empty()) issue(a, ev.did, *st);
        return a;
    }
    auto st = view.state(ev.did);
    if (!st) return st.error();
    if (*current == account_status::active) {
        auto count = view.follow_count(ev.did);
        if (!count) return count.error();
        if (*count == 0 && st->labels.empty()) return a;  // not one of ours
    }
    a.did = ev.did;
    if (*current != ev.status) a.set_account = ev.status;
    for (auto* h : st->held()) a.labels.push_back({ev.did, h->val, true, h->cts});
    return a;
}

}  // namespace labeler::pipeline
