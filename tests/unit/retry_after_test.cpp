#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <string_view>

#include "invent_dispatch/retry_after.hpp"

using namespace invent_dispatch;
using namespace std::chrono_literals;

namespace {
// Durations as nanosecond counts, which Boost.Test can print.
constexpr std::int64_t ns(std::chrono::steady_clock::duration d) {
    return d.count();
}
}   // namespace

BOOST_AUTO_TEST_SUITE(retry_after)

namespace {
// 30.5 s before the example date of RFC 9110, 06 Nov 1994 08:49:37 GMT.
const auto rfc_example = std::chrono::sys_days{std::chrono::year{1994} / std::chrono::November / 6} + 8h + 49min + 37s;
const auto wall_now = rfc_example - 30500ms;
}   // namespace

BOOST_AUTO_TEST_CASE(retry_after_delta_seconds) {
    BOOST_TEST(ns(*parse_retry_after("120", wall_now)) == ns(120s));
    BOOST_TEST(ns(*parse_retry_after("0", wall_now)) == 0);
    BOOST_TEST(ns(*parse_retry_after(" 5\t", wall_now)) == ns(5s));
    BOOST_TEST(ns(*parse_retry_after("3600", wall_now)) == ns(1h));
    BOOST_TEST(ns(*parse_retry_after("86400", wall_now)) == ns(1h));
    BOOST_TEST(ns(*parse_retry_after("99999999999999999999999", wall_now)) == ns(1h));
}

BOOST_AUTO_TEST_CASE(retry_after_in_all_three_date_formats) {
    BOOST_TEST(ns(*parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", wall_now)) == ns(30500ms));
    BOOST_TEST(ns(*parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", wall_now)) == ns(30500ms));
    BOOST_TEST(ns(*parse_retry_after("Sun Nov  6 08:49:37 1994", wall_now)) == ns(30500ms));
    BOOST_TEST(ns(*parse_retry_after("Sun Nov 06 08:49:37 1994", wall_now)) == ns(30500ms));
    BOOST_TEST(ns(*parse_retry_after("Sun, 06 Nov 1994 08:59:37 GMT", wall_now)) == ns(630500ms));
}

BOOST_AUTO_TEST_CASE(retry_after_date_in_the_past_is_zero_and_far_future_is_capped) {
    BOOST_TEST(ns(*parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", wall_now)) == 0);
    BOOST_TEST(ns(*parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", wall_now)) == 0);
    BOOST_TEST(ns(*parse_retry_after("Mon, 07 Nov 1994 08:49:37 GMT", wall_now)) == ns(1h));
}

// Issue 12 finding 7: dates beyond what the clock's nanoseconds can hold
// (about 1677..2262) overflowed while converting (UBSan), and the wrapped
// delay meant no pause at all. They are clamped first.
BOOST_AUTO_TEST_CASE(retry_after_far_dates_are_clamped_before_converting) {
    BOOST_TEST(ns(*parse_retry_after("Sun, 06 Nov 5994 08:49:37 GMT", wall_now)) == ns(1h));
    BOOST_TEST(ns(*parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", wall_now)) == ns(1h));
    BOOST_TEST(ns(*parse_retry_after("Sat, 01 Jan 0000 00:00:00 GMT", wall_now)) == 0);
    BOOST_TEST(ns(*parse_retry_after("Sun Nov  6 08:49:37 4000", wall_now)) == ns(1h));
}

BOOST_AUTO_TEST_CASE(retry_after_rfc850_two_digit_year_is_at_most_50_years_ahead) {
    const auto now_2026 = std::chrono::sys_days{std::chrono::year{2026} / std::chrono::November / 25};
    // 2076 is not more than 50 years ahead: the future, capped.
    BOOST_TEST(ns(*parse_retry_after("Sunday, 01-Nov-76 00:00:00 GMT", now_2026)) == ns(1h));
    // 2077 would be: it is 1977, the past.
    BOOST_TEST(ns(*parse_retry_after("Monday, 01-Nov-77 00:00:00 GMT", now_2026)) == 0);
    BOOST_TEST(ns(*parse_retry_after("Wednesday, 25-Nov-26 00:10:00 GMT", now_2026)) == ns(10min));
}

BOOST_AUTO_TEST_CASE(retry_after_garbage_is_rejected) {
    for (const std::string_view text : {
             "",
             " ",
             "-5",
             "+5",
             "5.5",
             "5s",
             "soon",
             "0x10",
             "Sun, 06 Nov 1994 08:49:37 UTC",   // only GMT
             "Sun, 06 Nov 1994 08:49:37 GMT x",   // trailing bytes
             "sun, 06 nov 1994 08:49:37 GMT",   // names are case-sensitive
             "Sun, 6 Nov 1994 08:49:37 GMT",   // day needs two digits
             "Sun, 31 Feb 1994 08:49:37 GMT",   // no such day
             "Sun, 06 Nov 1994 24:00:00 GMT",   // no such hour
             "Sun, 06 Nov 1994 08:60:00 GMT",   // no such minute
             "Sun, 06 Nov 94 08:49:37 GMT",   // IMF-fixdate has four-digit years
             "Sun, 06-Nov-94 08:49:37 GMT",   // RFC 850 has the full day name
             "Sunday, 06-Nov-1994 08:49:37 GMT",   // ... and a two-digit year
             "Sun Nov 6 08:49:37 1994",   // asctime pads the day with a space
             "Sun Nov  6 08:49:37 1994 GMT",   // ... and names no zone
             "Sun, 06 Nov 1994 08:49 GMT",
         }) {
        BOOST_TEST(!parse_retry_after(text, wall_now), "'" << text << "'");
    }
}

BOOST_AUTO_TEST_SUITE_END()
