#pragma once
// query_response_cache: whole queryLabels response bodies by query string, each tagged with the
// store's last_seq when its query began. A body is served again only while last_seq is
// unchanged: the label state changes only by appending log entries, so an equal last_seq means
// the same answer, and a repeated query (a first page polled, a profile refreshed) costs no
// store read and no hand-off to the blocking pool. A body computed while a commit landed may
// already include that commit; it is still a state the store was in, and the next lookup, with
// the new last_seq, misses. Direct-mapped by a hash of the query; bodies above `max_body`
// bytes are not kept. Thread-safe (striped mutexes). Capacity 0 disables it.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace labeler::server {

class query_response_cache {
public:
    explicit query_response_cache(std::size_t capacity, std::size_t max_body = 64 * 1024);

    // The body stored for `query` at `version`, if any.
    std::optional<std::string> get(std::string_view query, std::uint64_t version) const;
    void put(std::string_view query, std::uint64_t version, std::string_view body);
    std::size_t capacity() const { return slots_.size(); }

private:
    struct slot {
        bool used = false;
        std::uint64_t version = 0;
        std::string query;
        std::string body;
    };
    static constexpr std::size_t kStripes = 16;
    std::size_t index(std::string_view query) const;
    std::mutex& lock_for(std::size_t i) const { return locks_[i % kStripes]; }

    std::vector<slot> slots_;
    std::size_t mask_ = 0;
    std::size_t max_body_;
    std::unique_ptr<std::mutex[]> locks_;
};

}  // namespace labeler::server
