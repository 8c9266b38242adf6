#pragma once
// label_json_cache: the rendered com.atproto.label.defs#label JSON of recently served labels,
// by seq. A label never changes once it has a seq, so an entry is never stale and needs no
// invalidation; the cache only bounds memory. Direct-mapped (slot = seq mod capacity, a power
// of two): a lookup is one locked compare, and a newer seq simply replaces the slot's entry.
// Thread-safe (striped mutexes). Capacity 0 disables it.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace labeler::server {

class label_json_cache {
public:
    explicit label_json_cache(std::size_t capacity);

    // On a hit, appends the JSON of `seq` to `out` and returns true.
    bool get(std::uint64_t seq, std::string& out) const;
    void put(std::uint64_t seq, std::string_view json);
    std::size_t capacity() const { return slots_.size(); }

private:
    struct slot {
        std::uint64_t seq = 0;  // 0 = empty (seqs start at 1)
        std::string json;
    };
    static constexpr std::size_t kStripes = 64;
    std::mutex& lock_for(std::size_t index) const { return locks_[index % kStripes]; }

    std::vector<slot> slots_;
    std::size_t mask_ = 0;
    std::unique_ptr<std::mutex[]> locks_;
};

}  // namespace labeler::server
