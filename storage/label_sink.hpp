#pragma once
// Where committed labels go after the store made them durable. The pipeline (and later the
// re-roll scheduler and the operator API) publish into it; the server's subscriber hub
// implements it. This interface is how the pipeline and the server meet without including
// each other.
#include <vector>

#include "storage/types.hpp"

namespace labeler::storage {

class label_sink {
public:
    virtual ~label_sink() = default;
    // Called after a successful commit, on the store's commit thread (label_store's commit
    // callback), in strictly increasing seq order, never twice for the same entry. Must not
    // block (post, don't process): the next batch's write waits for it.
    virtual void publish(std::vector<shared_entry> entries) = 0;
};

}  // namespace labeler::storage
