#include "src/server/json_cache.hpp"

#include <bit>

namespace labeler::server {

label_json_cache::label_json_cache(std::size_t capacity)
    : locks_(std::make_unique<std::mutex[]>(kStripes)) {
    if (capacity == 0) return;
    const std::size_t n = std::bit_ceil(capacity);
    slots_.resize(n);
    mask_ = n - 1;
}

bool label_json_cache::get(std::uint64_t seq, std::string& out) const {
    if (slots_.empty() || seq == 0) return false;
    const std::size_t i = std::size_t(seq) & mask_;
    std::lock_guard lk(lock_for(i));
    const slot& s = slots_[i];
    if (s.seq != seq) return false;
    out += s.json;
    return true;
}

void label_json_cache::put(std::uint64_t seq, std::string_view json) {
    if (slots_.empty() || seq == 0) return;
    const std::size_t i = std::size_t(seq) & mask_;
    std::lock_guard lk(lock_for(i));
    slot& s = slots_[i];
    s.seq = seq;
    s.json.assign(json);
}

}  // namespace labeler::server
