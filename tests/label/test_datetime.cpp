// Datetime formatting and parsing (atproto `datetime` rules, interop fixtures).
#include <catch2/catch.hpp>

#include "src/atproto/datetime.hpp"
#include "tests/label/fixtures.hpp"

using namespace labeler::atproto;
using namespace std::chrono;
using labeler::test::fixture_lines;

TEST_CASE("datetimes from the interop fixtures", "[datetime]") {
    for (const auto& s : fixture_lines("syntax/datetime_syntax_valid.txt")) {
        INFO("valid: [" << s << "]");
        CHECK(is_valid_datetime(s));
        CHECK(parse_datetime_ms(s).has_value());
    }
    for (const auto& s : fixture_lines("syntax/datetime_syntax_invalid.txt")) {
        INFO("invalid syntax: [" << s << "]");
        CHECK_FALSE(is_valid_datetime(s));
    }
    for (const auto& s : fixture_lines("syntax/datetime_parse_invalid.txt")) {
        INFO("invalid value: [" << s << "]");
        CHECK_FALSE(is_valid_datetime(s));
        CHECK_FALSE(parse_datetime(s).has_value());
    }
}

TEST_CASE("format_datetime writes UTC with milliseconds and Z", "[datetime]") {
    CHECK(format_datetime(system_clock::time_point{}) == "1970-01-01T00:00:00.000Z");
    const auto t = sys_days{2024y / October / 23} + 17h + 51min + 19s + 128ms + 999us;
    CHECK(format_datetime(time_point_cast<system_clock::duration>(t)) ==
          "2024-10-23T17:51:19.128Z");
    CHECK(format_datetime(sys_milliseconds(sys_days{2000y / February / 29})) ==
          "2000-02-29T00:00:00.000Z");
    // Before the epoch: floors to the millisecond, never "negative" fields.
    CHECK(format_datetime(system_clock::time_point{} - 1ns) == "1969-12-31T23:59:59.999Z");
    CHECK(format_datetime(sys_milliseconds(sys_days{1985y / April / 12})) ==
          "1985-04-12T00:00:00.000Z");
}

TEST_CASE("parse_datetime applies offsets and fractions", "[datetime]") {
    const auto base = sys_days{1985y / April / 12} + 23h + 20min + 50s;
    auto a = parse_datetime("1985-04-12T23:20:50.123Z");
    REQUIRE(a);
    CHECK(*a == base + 123ms);
    auto b = parse_datetime("1985-04-12T23:20:50.123-07:00");
    REQUIRE(b);
    CHECK(*b == base + 7h + 123ms);
    auto c = parse_datetime("1985-04-12T23:20:50+01:45");
    REQUIRE(c);
    CHECK(*c == base - 1h - 45min);
    auto d = parse_datetime("1985-04-12T23:20:50.123456789012Z");
    REQUIRE(d);
    CHECK(*d == base + 123456789ns);
    auto e = parse_datetime("1985-04-12T23:20:50.5Z");
    REQUIRE(e);
    CHECK(*e == base + 500ms);
    CHECK(parse_datetime_ms("0000-01-01T00:00:00.000Z")->time_since_epoch() ==
          sys_days{0y / January / 1}.time_since_epoch());
}

TEST_CASE("format and parse round-trip", "[datetime]") {
    for (const char* s :
         {"2024-10-23T17:51:19.128Z", "1970-01-01T00:00:00.000Z", "2262-01-01T00:00:00.000Z",
          "1999-12-31T23:59:59.999Z", "0001-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z"}) {
        auto t = parse_datetime_ms(s);
        REQUIRE(t);
        CHECK(format_datetime(*t) == s);
    }
    const auto now = system_clock::now();
    auto back = parse_datetime(format_datetime(now));
    REQUIRE(back);
    CHECK(*back == floor<milliseconds>(now));
}

TEST_CASE("parse errors explain the problem", "[datetime]") {
    auto r = parse_datetime("1985-04-12T23:20:50.123");
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("timezone"));
    r = parse_datetime("1985-04-12T23:20:50.123-00:00");
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("-00:00"));
    r = parse_datetime("1985-02-29T00:00:00Z");
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("day"));
    // Valid atproto datetime but outside system_clock's nanosecond range.
    CHECK(is_valid_datetime("3001-12-31T23:00:00.000Z"));
    r = parse_datetime("3001-12-31T23:00:00.000Z");
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("range"));
}
