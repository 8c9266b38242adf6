#include "src/common/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace labeler {
namespace {
std::atomic<log_level> g_level{log_level::info};
std::mutex g_mu;
constexpr const char* kNames[] = {"DEBUG", "INFO ", "WARN ", "ERROR", "OFF  "};
}  // namespace

bool set_log_level(std::string_view name) {
    static constexpr std::pair<std::string_view, log_level> kMap[] = {
        {"debug", log_level::debug}, {"info", log_level::info}, {"warn", log_level::warn},
        {"error", log_level::error}, {"off", log_level::off}};
    for (auto& [n, l] : kMap)
        if (n == name) { g_level = l; return true; }
    return false;
}

log_level current_log_level() { return g_level.load(std::memory_order_relaxed); }

void logger::write(log_level lvl, std::string_view msg) const {
    using namespace std::chrono;
    auto now = system_clock::now();
    auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    std::time_t t = system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char ts[32];
    std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    std::string line = fmt::format("{}.{:03}Z {} {}: {}\n", ts, ms, kNames[int(lvl)], module_, msg);
    std::lock_guard lk(g_mu);
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
}

}  // namespace labeler
