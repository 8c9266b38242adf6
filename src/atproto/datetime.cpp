#include "src/atproto/datetime.hpp"

#include <limits>

namespace labeler::atproto {
namespace {

using namespace std::chrono;

// Days since 1970-01-01 of a proleptic Gregorian civil date (H. Hinnant's algorithm).
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct civil {
    std::int64_t y;
    unsigned m, d;
};

constexpr civil civil_from_days(std::int64_t z) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

constexpr unsigned days_in_month(std::int64_t y, unsigned m) {
    constexpr unsigned len[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : len[m - 1];
}

constexpr bool digit(char c) {
    return c >= '0' && c <= '9';
}

// Reads `n` digits at s[pos]; false when any is not a digit.
bool digits(std::string_view s, std::size_t pos, std::size_t n, unsigned& out) {
    out = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (!digit(s[pos + i])) return false;
        out = out * 10 + unsigned(s[pos + i] - '0');
    }
    return true;
}

constexpr std::int64_t min_ms = days_from_civil(0, 1, 1) * 86'400'000;

// Parses to milliseconds since the epoch plus the sub-millisecond remainder in nanoseconds.
result<void> parse(std::string_view s, std::int64_t& ms, std::int64_t& sub_ms_ns) {
    auto bad = [&](const char* why) {
        return fail("invalid datetime \"" + std::string(s.substr(0, 64)) + "\": " + why);
    };
    if (s.size() < 20 || s.size() > 64) return bad("wrong length");
    unsigned y, mo, d, h, mi, sec;
    if (!digits(s, 0, 4, y) || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
        !digits(s, 8, 2, d))
        return bad("expected YYYY-MM-DD");
    if (s[10] != 'T') return bad("expected an uppercase 'T' after the date");
    if (!digits(s, 11, 2, h) || s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' ||
        !digits(s, 17, 2, sec))
        return bad("expected HH:MM:SS");
    std::size_t pos = 19;
    std::int64_t frac_ns = 0;
    if (s[pos] == '.') {
        ++pos;
        std::size_t start = pos;
        while (pos < s.size() && digit(s[pos])) {
            if (pos - start < 9) frac_ns = frac_ns * 10 + (s[pos] - '0');
            ++pos;
        }
        std::size_t n = pos - start;
        if (n == 0 || n > 20) return bad("fraction must have 1 to 20 digits");
        for (std::size_t i = n; i < 9; ++i) frac_ns *= 10;
    }
    if (pos >= s.size()) return bad("a timezone (Z or +HH:MM) is required");
    std::int64_t offset_min = 0;
    if (s[pos] == 'Z') {
        ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
        unsigned oh, om;
        if (s.size() - pos != 6 || !digits(s, pos + 1, 2, oh) || s[pos + 3] != ':' ||
            !digits(s, pos + 4, 2, om))
            return bad("timezone offset must be +HH:MM or -HH:MM");
        if (oh > 23 || om > 59) return bad("timezone offset out of range");
        if (s[pos] == '-' && oh == 0 && om == 0) return bad("-00:00 is not allowed");
        offset_min = (s[pos] == '-' ? -1 : 1) * std::int64_t(oh * 60 + om);
        pos += 6;
    } else {
        return bad("a timezone (Z or +HH:MM) is required");
    }
    if (pos != s.size()) return bad("trailing characters");
    if (mo < 1 || mo > 12) return bad("month out of range");
    if (d < 1 || d > days_in_month(y, mo)) return bad("day out of range");
    if (h > 23 || mi > 59 || sec > 59) return bad("time of day out of range");
    const std::int64_t secs =
        days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset_min * 60;
    ms = secs * 1000 + frac_ns / 1'000'000;
    sub_ms_ns = frac_ns % 1'000'000;
    if (ms < min_ms) return bad("before year 0000");
    return {};
}

}  // namespace

void append_datetime(std::string& out, sys_milliseconds t) {
    const std::int64_t ms_total = t.time_since_epoch().count();
    std::int64_t days = ms_total / 86'400'000;
    std::int64_t rem = ms_total % 86'400'000;
    if (rem < 0) {
        rem += 86'400'000;
        --days;
    }
    const civil c = civil_from_days(days);
    const auto ms = unsigned(rem % 1000);
    const auto sec = unsigned(rem / 1000 % 60);
    const auto mi = unsigned(rem / 60'000 % 60);
    const auto h = unsigned(rem / 3'600'000);
    const std::int64_t y = c.y < 0 ? 0 : (c.y > 9999 ? 9999 : c.y);  // clamp: format is 4 digits
    char buf[24] = {char('0' + y / 1000),
                    char('0' + y / 100 % 10),
                    char('0' + y / 10 % 10),
                    char('0' + y % 10),
                    '-',
                    char('0' + c.m / 10),
                    char('0' + c.m % 10),
                    '-',
                    char('0' + c.d / 10),
                    char('0' + c.d % 10),
                    'T',
                    char('0' + h / 10),
                    char('0' + h % 10),
                    ':',
                    char('0' + mi / 10),
                    char('0' + mi % 10),
                    ':',
                    char('0' + sec / 10),
                    char('0' + sec % 10),
                    '.',
                    char('0' + ms / 100),
                    char('0' + ms / 10 % 10),
                    char('0' + ms % 10),
                    'Z'};
    out.append(buf, sizeof buf);
}

std::string format_datetime(sys_milliseconds t) {
    std::string out;
    out.reserve(24);
    append_datetime(out, t);
    return out;
}

std::string format_datetime(system_clock::time_point t) {
    return format_datetime(floor<milliseconds>(t));
}

result<sys_milliseconds> parse_datetime_ms(std::string_view s) {
    std::int64_t ms = 0, sub = 0;
    if (auto r = parse(s, ms, sub); !r) return r.error();
    return sys_milliseconds(milliseconds(ms));
}

result<system_clock::time_point> parse_datetime(std::string_view s) {
    std::int64_t ms = 0, sub = 0;
    if (auto r = parse(s, ms, sub); !r) return r.error();
    using dur = system_clock::duration;
    constexpr std::int64_t per_ms = duration_cast<dur>(milliseconds(1)).count();
    constexpr std::int64_t max_ms = std::numeric_limits<dur::rep>::max() / per_ms - 1;
    if (ms > max_ms || ms < -max_ms)
        return fail("invalid datetime \"" + std::string(s) +
                    "\": outside the representable range of system_clock");
    return system_clock::time_point(
        dur(ms * per_ms + duration_cast<dur>(nanoseconds(sub)).count()));
}

bool is_valid_datetime(std::string_view s) {
    std::int64_t ms = 0, sub = 0;
    return bool(parse(s, ms, sub));
}

}  // namespace labeler::atproto
