#pragma once
// Plain data shared by the store, the pipeline and the server. No RocksDB types here.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace labeler::storage {

// One entry of the append-only label log: a signed label in its final DAG-CBOR form
// (exactly the bytes that go into a subscribeLabels frame), and its sequence number.
struct log_entry {
    std::uint64_t seq = 0;
    std::string cbor;
};
using shared_entry = std::shared_ptr<const log_entry>;

// The fields the store indexes, given alongside the encoded label by the writer. They must
// describe the same label as the CBOR bytes (the writer built both from one atproto::label).
struct label_fields {
    std::string src;                 // issuer DID
    std::string uri;                 // subject: a DID or an at:// URI
    std::string val;                 // label value
    bool neg = false;                // negation
    std::string cts;                 // created-at, "YYYY-MM-DDTHH:MM:SS.mmmZ"
    std::optional<std::string> exp;  // expiry, same format
};

// The latest log entry for one (subject, value) pair. `neg == false` means the subject holds it.
struct held_label {
    std::string val;
    std::uint64_t seq = 0;
    std::string cts;
    bool neg = false;
    std::optional<std::string> exp;
};

// Account status as last reported by the source (Jetstream/firehose #account); kept in the
// account's subject_state, where active is the default.
enum class account_status : std::uint8_t {
    active = 0, deactivated = 1, deleted = 2, takendown = 3, suspended = 4, other_inactive = 5
};

// A follow record that targets the labeler: the follower's record key and the followed DID.
struct follow_record {
    std::string rkey;
    std::string subject;
    bool operator==(const follow_record&) const = default;
};

// Current state of one subject: the latest entry for each value this labeler ever issued to it,
// ordered by value (values whose latest entry is a negation are kept: they carry the last cts);
// and, when the subject is an account, its follow records that target the labeler (ordered by
// rkey; it is a follower while any remains) and its last reported status.
struct subject_state {
    std::vector<held_label> labels;
    std::vector<follow_record> follows;
    account_status account = account_status::active;

    // Nothing to keep: no label ever issued, no follow record, an active account.
    bool empty() const {
        return labels.empty() && follows.empty() && account == account_status::active;
    }

    // Values the subject holds right now (latest entry positive).
    std::vector<const held_label*> held() const {
        std::vector<const held_label*> out;
        for (auto& l : labels)
            if (!l.neg) out.push_back(&l);
        return out;
    }
    const held_label* find(const std::string& val) const {
        for (auto& l : labels)
            if (l.val == val) return &l;
        return nullptr;
    }
};


}  // namespace labeler::storage
