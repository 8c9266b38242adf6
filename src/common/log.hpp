#pragma once
// A named logger per module. Lines go to stderr as
//   2026-11-29T10:41:51.304Z INFO  server: listening on 127.0.0.1:8080
// Info is for lifecycle, warn for degraded, error for failure; per-event problems are counters.
// Thread-safe (one mutex around the write); cheap when the level is filtered out.
#include <fmt/format.h>
#include <string>
#include <string_view>
#include <utility>

namespace labeler {

enum class log_level { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

// Sets the global threshold (default info). "debug|info|warn|error|off"; returns false if unknown.
bool set_log_level(std::string_view name);
log_level current_log_level();

class logger {
public:
    explicit constexpr logger(std::string_view module) : module_(module) {}

    template <class... A>
    void debug(fmt::format_string<A...> f, A&&... a) const { emit(log_level::debug, f, std::forward<A>(a)...); }
    template <class... A>
    void info(fmt::format_string<A...> f, A&&... a) const { emit(log_level::info, f, std::forward<A>(a)...); }
    template <class... A>
    void warn(fmt::format_string<A...> f, A&&... a) const { emit(log_level::warn, f, std::forward<A>(a)...); }
    template <class... A>
    void error(fmt::format_string<A...> f, A&&... a) const { emit(log_level::error, f, std::forward<A>(a)...); }

    void write(log_level lvl, std::string_view msg) const;

private:
    template <class... A>
    void emit(log_level lvl, fmt::format_string<A...> f, A&&... a) const {
        if (lvl < current_log_level()) return;
        write(lvl, fmt::format(f, std::forward<A>(a)...));
    }
    std::string_view module_;
};

}  // namespace labeler
