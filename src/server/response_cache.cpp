#include "src/server/response_cache.hpp"

#include <bit>
#include <functional>

namespace labeler::server {

query_response_cache::query_response_cache(std::size_t capacity, std::size_t max_body)
    : max_body_(max_body), locks_(std::make_unique<std::mutex[]>(kStripes)) {
    if (capacity == 0) return;
    const std::size_t n = std::bit_ceil(capacity);
    slots_.resize(n);
    mask_ = n - 1;
}

std::size_t query_response_cache::index(std::string_view query) const {
    return std::hash<std::string_view>{}(query) & mask_;
}

std::optional<std::string> query_response_cache::get(std::string_view query,
                                                     std::uint64_t version) const {
    if (slots_.empty()) return std::nullopt;
    const std::size_t i = index(query);
    std::lock_guard lk(lock_for(i));
    const slot& s = slots_[i];
    if (!s.used || s.version != version || s.query != query) return std::nullopt;
    return s.body;
}

void query_response_cache::put(std::string_view query, std::uint64_t version,
                               std::string_view body) {
    if (slots_.empty() || body.size() > max_body_) return;
    const std::size_t i = index(query);
    std::lock_guard lk(lock_for(i));
    slot& s = slots_[i];
    if (s.used && s.query == query && s.version > version) return;  // keep the newer answer
    s.used = true;
    s.version = version;
    s.query.assign(query);
    s.body.assign(body);
}

}  // namespace labeler::server
