// Retry-After values (RFC 9110 §10.2.3): delay-seconds or one of the three
// HTTP date forms.
#include "invent_dispatch/retry_after.hpp"
#include "invent_dispatch/trim.hpp"

#include <algorithm>
#include <array>
#include <cstddef>

namespace invent_dispatch {
namespace {

// Reads the fixed-width grammar of HTTP dates (RFC 9110 §5.6.7) one token at
// a time; every method consumes its token only when it matches.
class date_cursor {
public:
    explicit date_cursor(std::string_view text) noexcept : rest_(text) {}

    bool literal(std::string_view token) noexcept {
        if (!rest_.starts_with(token)) return false;
        rest_.remove_prefix(token.size());
        return true;
    }

    // Exactly `count` ASCII digits.
    std::optional<int> digits(std::size_t count) noexcept {
        if (rest_.size() < count) return std::nullopt;
        int value = 0;
        for (std::size_t i = 0; i < count; ++i) {
            const char c = rest_[i];
            if (c < '0' || c > '9') return std::nullopt;
            value = value * 10 + (c - '0');
        }
        rest_.remove_prefix(count);
        return value;
    }

    // The index of the name that comes next (names are case-sensitive).
    template <std::size_t n>
    std::optional<int> one_of(const std::array<std::string_view, n>& names) noexcept {
        for (std::size_t i = 0; i < n; ++i)
            if (literal(names[i])) return static_cast<int>(i);
        return std::nullopt;
    }

    bool at_end() const noexcept { return rest_.empty(); }

private:
    std::string_view rest_;
};

constexpr std::array<std::string_view, 7> short_day_names{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> long_day_names{"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                         "Friday", "Saturday", "Sunday"};
constexpr std::array<std::string_view, 12> month_names{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

struct civil_time {
    int year = 0;
    int month = 0;   // 1..12
    int day = 0;
    int hour = 0;
    int minute = 0;
    int second = 0;
};

// time-of-day = hour ":" minute ":" second, each 2DIGIT
bool read_time_of_day(date_cursor& in, civil_time& t) noexcept {
    const auto hour = in.digits(2);
    if (!hour || !in.literal(":")) return false;
    const auto minute = in.digits(2);
    if (!minute || !in.literal(":")) return false;
    const auto second = in.digits(2);
    if (!second) return false;
    t.hour = *hour;
    t.minute = *minute;
    t.second = *second;
    return true;
}

bool read_month(date_cursor& in, civil_time& t) noexcept {
    const auto month = in.one_of(month_names);
    if (!month) return false;
    t.month = *month + 1;
    return true;
}

// IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT", and the obsolete RFC 850
// form, "Sunday, 06-Nov-94 08:49:37 GMT": the same grammar but for the day
// names, the separator around the month and the year's digits.
std::optional<civil_time> read_gmt_date(std::string_view text, const std::array<std::string_view, 7>& day_names,
                                        std::string_view separator, std::size_t year_digits) noexcept {
    date_cursor in(text);
    civil_time t;
    if (!in.one_of(day_names) || !in.literal(", ")) return std::nullopt;
    const auto day = in.digits(2);
    if (!day || !in.literal(separator) || !read_month(in, t) || !in.literal(separator)) return std::nullopt;
    const auto year = in.digits(year_digits);
    if (!year || !in.literal(" ") || !read_time_of_day(in, t) || !in.literal(" GMT") || !in.at_end())
        return std::nullopt;
    t.day = *day;
    t.year = *year;
    return t;
}

// RFC 9110 §5.6.7: a two-digit year more than 50 years in the future is the
// latest past year with those digits.
std::optional<civil_time> read_rfc850_date(std::string_view text, int current_year) noexcept {
    auto t = read_gmt_date(text, long_day_names, "-", 2);
    if (!t) return std::nullopt;
    t->year += current_year - current_year % 100;
    if (t->year > current_year + 50) t->year -= 100;
    return t;
}

// asctime: "Sun Nov  6 08:49:37 1994" (a one-digit day is padded with a space)
std::optional<civil_time> read_asctime_date(std::string_view text) noexcept {
    date_cursor in(text);
    civil_time t;
    if (!in.one_of(short_day_names) || !in.literal(" ") || !read_month(in, t) || !in.literal(" ")) return std::nullopt;
    const auto day = in.literal(" ") ? in.digits(1) : in.digits(2);
    if (!day || !in.literal(" ") || !read_time_of_day(in, t) || !in.literal(" ")) return std::nullopt;
    const auto year = in.digits(4);
    if (!year || !in.at_end()) return std::nullopt;
    t.day = *day;
    t.year = *year;
    return t;
}

// UTC by construction (the civil calendar of <chrono> is timegm's arithmetic
// without its time_t limits), and it rejects days a month does not have,
// which timegm would silently roll over.
std::optional<std::chrono::sys_seconds> to_sys_seconds(const civil_time& t) noexcept {
    using namespace std::chrono;
    const year_month_day date{year(t.year), month(static_cast<unsigned>(t.month)), day(static_cast<unsigned>(t.day))};
    if (!date.ok() || t.hour > 23 || t.minute > 59 || t.second > 60)   // 60: a leap second
        return std::nullopt;
    return sys_days(date) + hours(t.hour) + minutes(t.minute) + seconds(t.second);
}

std::optional<std::chrono::sys_seconds> parse_http_date(std::string_view text, int current_year) noexcept {
    auto t = read_gmt_date(text, short_day_names, " ", 4);
    if (!t) t = read_rfc850_date(text, current_year);
    if (!t) t = read_asctime_date(text);
    if (!t) return std::nullopt;
    return to_sys_seconds(*t);
}

}   // namespace

std::optional<std::chrono::steady_clock::duration>
parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now_wall) noexcept {
    using namespace std::chrono;
    value = trim(value);
    if (value.empty()) return std::nullopt;

    if (value.find_first_not_of("0123456789") == std::string_view::npos) {
        // delay-seconds: saturate instead of overflowing; the cap applies anyway.
        const auto cap_seconds = duration_cast<seconds>(max_retry_after).count();
        seconds::rep delay = 0;
        for (const char c : value) {
            delay = delay * 10 + (c - '0');
            if (delay >= cap_seconds) return max_retry_after;
        }
        return duration_cast<steady_clock::duration>(seconds(delay));
    }

    const int current_year = static_cast<int>(year_month_day(floor<days>(now_wall)).year());
    const auto date = parse_http_date(value, current_year);
    if (!date) return std::nullopt;
    // Compared in whole seconds first: a far date (year 5994, or 0000) does not
    // fit in the clock's nanoseconds, so it is clamped before any conversion.
    const auto whole_seconds = *date - floor<seconds>(now_wall);
    if (whole_seconds <= seconds::zero()) return steady_clock::duration::zero();
    if (whole_seconds > duration_cast<seconds>(max_retry_after)) return max_retry_after;
    const auto delay = *date - now_wall;
    if (delay <= system_clock::duration::zero()) return steady_clock::duration::zero();
    return std::min(duration_cast<steady_clock::duration>(delay), max_retry_after);
}

}   // namespace invent_dispatch
