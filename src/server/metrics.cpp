#include "src/server/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace labeler::server {

const char* route_name(route r) {
    switch (r) {
        case route::query_labels: return "queryLabels";
        case route::subscribe_labels: return "subscribeLabels";
        case route::health: return "health";
        case route::metrics: return "metrics";
        case route::status: return "status";
        case route::admin: return "admin";
        case route::options: return "options";
        case route::not_found: return "other";
        case route::count_: break;
    }
    return "other";
}

namespace {
double boot_time_seconds() {
    std::ifstream f("/proc/stat");
    std::string key;
    double v = 0;
    while (f >> key) {
        if (key == "btime") {
            f >> v;
            return v;
        }
        f.ignore(1 << 16, '\n');
    }
    return 0;
}

// Process start time (unix seconds) from /proc/self/stat field 22 (clock ticks since boot).
double process_start_time() {
    std::ifstream f("/proc/self/stat");
    std::string s((std::istreambuf_iterator<char>(f)), {});
    auto rp = s.rfind(')');
    if (rp == std::string::npos) return 0;
    std::istringstream in(s.substr(rp + 2));
    std::string field;
    // fields after ')' start at #3 (state); starttime is #22
    for (int i = 3; i < 22 && in >> field; ++i) {}
    double ticks = 0;
    in >> ticks;
    return boot_time_seconds() + ticks / double(::sysconf(_SC_CLK_TCK));
}
}  // namespace

server_metrics::server_metrics(prometheus::Registry& registry)
    : subscribers_(prometheus::BuildGauge()
                      .Name("labeler_server_subscribers")
                      .Help("Open subscribeLabels WebSocket sessions")
                      .Register(registry)
                      .Add({})),
      connections_(prometheus::BuildGauge()
                      .Name("labeler_server_connections")
                      .Help("Open TCP connections (HTTP and WebSocket)")
                      .Register(registry)
                      .Add({})),
      frames_sent_(prometheus::BuildCounter()
                      .Name("labeler_server_frames_sent_total")
                      .Help("subscribeLabels #labels frames written to subscribers")
                      .Register(registry)
                      .Add({})),
      slow_consumer_drops_(prometheus::BuildCounter()
                              .Name("labeler_server_slow_consumer_drops_total")
                              .Help("Subscribers disconnected with ConsumerTooSlow")
                              .Register(registry)
                              .Add({})),
      connections_refused_(prometheus::BuildCounter()
                               .Name("labeler_server_connections_refused_total")
                               .Help("Connections answered 503 and closed: server.max_connections")
                               .Register(registry)
                               .Add({})),
      json_cache_(prometheus::BuildCounter()
                      .Name("labeler_server_label_json_cache_total")
                      .Help("queryLabels results found (hit) or not (miss) in the rendered-label "
                            "cache (server.label_json_cache)")
                      .Register(registry)),
      json_cache_hits_(json_cache_.Add({{"result", "hit"}})),
      json_cache_misses_(json_cache_.Add({{"result", "miss"}})),
      query_cache_(prometheus::BuildCounter()
                       .Name("labeler_server_query_cache_total")
                       .Help("queryLabels requests answered from (hit) or not (miss) the "
                             "response cache (server.query_cache)")
                       .Register(registry)),
      query_cache_hits_(query_cache_.Add({{"result", "hit"}})),
      query_cache_misses_(query_cache_.Add({{"result", "miss"}})),
      registry_(registry),
      requests_(prometheus::BuildCounter()
                    .Name("labeler_server_requests_total")
                    .Help("HTTP requests by route and status")
                    .Register(registry)),
      ws_rejected_(prometheus::BuildCounter()
                       .Name("labeler_server_ws_rejected_total")
                       .Help("subscribeLabels sessions ended with an error frame, by error")
                       .Register(registry)),
      cpu_seconds_(prometheus::BuildCounter()
                       .Name("process_cpu_seconds_total")
                       .Help("Total user and system CPU time spent in seconds")
                       .Register(registry)
                       .Add({})),
      rss_bytes_(prometheus::BuildGauge()
                     .Name("process_resident_memory_bytes")
                     .Help("Resident memory size in bytes")
                     .Register(registry)
                     .Add({})),
      open_fds_(prometheus::BuildGauge()
                    .Name("process_open_fds")
                    .Help("Number of open file descriptors")
                    .Register(registry)
                    .Add({})),
      start_time_(prometheus::BuildGauge()
                      .Name("process_start_time_seconds")
                      .Help("Start time of the process since unix epoch in seconds")
                      .Register(registry)
                      .Add({})) {
    auto& hist = prometheus::BuildHistogram()
                     .Name("labeler_server_request_seconds")
                     .Help("HTTP request latency by route (parse to response written)")
                     .Register(registry);
    for (std::size_t i = 0; i < seconds_.size(); ++i)
        seconds_[i] = &hist.Add({{"route", route_name(route(i))}},
                                prometheus::Histogram::BucketBoundaries{
                                    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                    0.05, 0.1, 0.25, 0.5, 1, 2.5});
    start_time_.Set(process_start_time());
}

void server_metrics::request(route r, unsigned status, double seconds) {
    std::uint32_t key = (std::uint32_t(r) << 16) | status;
    prometheus::Counter* c;
    {
        std::lock_guard lk(mu_);
        auto& slot = request_counters_[key];
        if (!slot)
            slot = &requests_.Add({{"route", route_name(r)}, {"status", std::to_string(status)}});
        c = slot;
    }
    c->Increment();
    seconds_[std::size_t(r)]->Observe(seconds);
}

void server_metrics::connection_opened() { connections_.Increment(); }
void server_metrics::connection_closed() { connections_.Decrement(); }
void server_metrics::subscriber_added() { subscribers_.Increment(); }
void server_metrics::subscriber_removed() { subscribers_.Decrement(); }
void server_metrics::frames_sent(std::size_t n) { frames_sent_.Increment(double(n)); }
void server_metrics::slow_consumer_dropped() { slow_consumer_drops_.Increment(); }
void server_metrics::connection_refused() { connections_refused_.Increment(); }

void server_metrics::label_json_cache(std::size_t hits, std::size_t misses) {
    if (hits) json_cache_hits_.Increment(double(hits));
    if (misses) json_cache_misses_.Increment(double(misses));
}

void server_metrics::query_cache(bool hit) {
    (hit ? query_cache_hits_ : query_cache_misses_).Increment();
}

void server_metrics::ws_rejected(const char* reason) {
    std::lock_guard lk(mu_);
    ws_rejected_.Add({{"reason", reason}}).Increment();
}

void server_metrics::refresh_process() {
    std::ifstream f("/proc/self/stat");
    std::string s((std::istreambuf_iterator<char>(f)), {});
    auto rp = s.rfind(')');
    if (rp != std::string::npos) {
        std::istringstream in(s.substr(rp + 2));
        std::string field;
        double utime = 0, stime = 0, rss_pages = 0;
        // #3 state ... #14 utime, #15 stime, #24 rss
        for (int i = 3; i < 14 && in >> field; ++i) {}
        in >> utime >> stime;
        for (int i = 16; i < 24 && in >> field; ++i) {}
        in >> rss_pages;
        double cpu = (utime + stime) / double(::sysconf(_SC_CLK_TCK));
        std::lock_guard lk(mu_);
        if (cpu > cpu_reported_) {
            cpu_seconds_.Increment(cpu - cpu_reported_);
            cpu_reported_ = cpu;
        }
        rss_bytes_.Set(rss_pages * double(::sysconf(_SC_PAGESIZE)));
    }
    std::error_code ec;
    std::size_t fds = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
        ++fds;
    open_fds_.Set(double(fds));
}

std::string server_metrics::scrape() {
    refresh_process();
    prometheus::TextSerializer ser;
    return ser.Serialize(registry_.Collect());
}

}  // namespace labeler::server
