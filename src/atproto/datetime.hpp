#pragma once
// datetime: the atproto `datetime` string format (RFC 3339 ∩ ISO 8601).
//
// Accepted: YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM) with an uppercase 'T', whole seconds,
// 1..20 fractional digits, a mandatory timezone that is not "-00:00", real calendar values and
// an instant not before 0000-01-01T00:00:00Z. Pure functions, thread-safe.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "src/common/result.hpp"

namespace labeler::atproto {

using sys_milliseconds = std::chrono::sys_time<std::chrono::milliseconds>;

// "YYYY-MM-DDTHH:MM:SS.mmmZ" in UTC, truncated (floored) to milliseconds.
std::string format_datetime(std::chrono::system_clock::time_point t);
std::string format_datetime(sys_milliseconds t);
// Appends the same 24 characters to `out`.
void append_datetime(std::string& out, sys_milliseconds t);

// Parses an atproto datetime to an instant (sub-nanosecond digits truncated). Errors explain the
// problem; instants outside system_clock's range (years 1678..2261) are errors too.
result<std::chrono::system_clock::time_point> parse_datetime(std::string_view s);
// Same rules, millisecond precision, full range of years 0000..9999.
result<sys_milliseconds> parse_datetime_ms(std::string_view s);
// True when `s` is a valid atproto datetime (any year 0000..9999).
bool is_valid_datetime(std::string_view s);

}  // namespace labeler::atproto
