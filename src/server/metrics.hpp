#pragma once
// server_metrics: the server's Prometheus probe plus process metrics and serialization.
//
// Registered on the injected registry: labeler_server_requests_total{route,status},
// labeler_server_request_seconds{route} (histogram), labeler_server_subscribers,
// labeler_server_connections, labeler_server_frames_sent_total,
// labeler_server_slow_consumer_drops_total, labeler_server_ws_rejected_total{reason},
// labeler_server_connections_refused_total, labeler_server_label_json_cache_total{result},
// labeler_server_query_cache_total{result},
// and process_{cpu_seconds_total,resident_memory_bytes,open_fds,start_time_seconds},
// refreshed from /proc on every scrape. Thread-safe.
#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
template <class T> class Family;
}  // namespace prometheus

namespace labeler::server {

enum class route : std::uint8_t {
    query_labels, subscribe_labels, health, metrics, status, admin, options, not_found, count_
};
const char* route_name(route r);

class server_metrics {
public:
    explicit server_metrics(prometheus::Registry& registry);

    // One finished HTTP request (WebSocket upgrades count with status 101).
    void request(route r, unsigned status, double seconds);
    void ws_rejected(const char* reason);  // FutureCursor, InvalidRequest, ...
    // Refreshes process metrics and renders the whole registry in text format.
    std::string scrape();

    void connection_opened();
    void connection_closed();
    void subscriber_added();
    void subscriber_removed();
    void frames_sent(std::size_t n);
    void slow_consumer_dropped();
    void connection_refused();  // over server.max_connections
    void label_json_cache(std::size_t hits, std::size_t misses);  // per queryLabels request
    void query_cache(bool hit);  // per queryLabels request (server.query_cache)

private:
    prometheus::Gauge& subscribers_;
    prometheus::Gauge& connections_;
    prometheus::Counter& frames_sent_;
    prometheus::Counter& slow_consumer_drops_;
    prometheus::Counter& connections_refused_;
    prometheus::Family<prometheus::Counter>& json_cache_;
    prometheus::Counter& json_cache_hits_;
    prometheus::Counter& json_cache_misses_;
    prometheus::Family<prometheus::Counter>& query_cache_;
    prometheus::Counter& query_cache_hits_;
    prometheus::Counter& query_cache_misses_;
    void refresh_process();
    prometheus::Registry& registry_;
    prometheus::Family<prometheus::Counter>& requests_;
    prometheus::Family<prometheus::Counter>& ws_rejected_;
    std::array<prometheus::Histogram*, std::size_t(route::count_)> seconds_{};
    std::mutex mu_;
    std::unordered_map<std::uint32_t, prometheus::Counter*> request_counters_;
    prometheus::Counter& cpu_seconds_;
    prometheus::Gauge& rss_bytes_;
    prometheus::Gauge& open_fds_;
    prometheus::Gauge& start_time_;
    double cpu_reported_ = 0;
};

}  // namespace labeler::server
