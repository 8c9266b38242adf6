#pragma once
// filter: the cheap stateless cut between the source thread and the writer. Keeps follow
// creates whose subject is the labeler DID, every follow delete (whether the record is one of
// ours is only known from the store, so decide checks) and every account change that is user
// state (desynchronized/throttled are relay conditions, dropped). Pure, no allocation.
#include <string>
#include <string_view>

#include "pipeline/event.hpp"

namespace labeler::pipeline {

class event_filter {
public:
    explicit event_filter(std::string labeler_did) : labeler_did_(std::move(labeler_did)) {}

    // True when the writer must see the event.
    bool operator()(const event& ev) const noexcept {
        switch (ev.kind) {
            case event_kind::follow_create: return ev.subject == labeler_did_;
            case event_kind::follow_delete: return true;
            case event_kind::account_change: return !ev.transient;
        }
        return false;
    }

    const std::string& labeler_did() const noexcept { return labeler_did_; }

private:
    std::string labeler_did_;
};

}  // namespace labeler::pipeline
