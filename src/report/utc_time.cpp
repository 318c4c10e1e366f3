// The journal's and the summary's timestamps: UTC, RFC 3339 with milliseconds.
#include <charconv>
#include <fmt/format.h>

#include "invent_dispatch/report.hpp"

namespace invent_dispatch {

std::string format_utc(std::chrono::system_clock::time_point when) {
    using namespace std::chrono;
    const auto ms = floor<milliseconds>(when);
    const auto day = floor<days>(ms);
    const year_month_day date{day};
    const hh_mm_ss time{ms - day};
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(date.year()),
                       static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()), time.hours().count(),
                       time.minutes().count(), time.seconds().count(), time.subseconds().count());
}

std::optional<std::int64_t> parse_utc_ms(std::string_view text) noexcept {
    using namespace std::chrono;
    std::size_t at = 0;
    const auto number = [&](std::size_t digits, int& value) {
        if (at + digits > text.size()) return false;
        const auto [end, ec] = std::from_chars(text.data() + at, text.data() + at + digits, value);
        if (ec != std::errc{} || end != text.data() + at + digits) return false;
        at += digits;
        return true;
    };
    const auto expect = [&](char c) {
        if (at >= text.size() || (text[at] != c && !(c == 'T' && (text[at] == 't' || text[at] == ' ')))) return false;
        ++at;
        return true;
    };
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    if (!number(4, y) || !expect('-') || !number(2, mo) || !expect('-') || !number(2, d) || !expect('T') ||
        !number(2, h) || !expect(':') || !number(2, mi) || !expect(':') || !number(2, s))
        return std::nullopt;
    std::int64_t millis = 0;
    if (at < text.size() && text[at] == '.') {
        ++at;
        int scale = 100;
        const auto first = at;
        while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
            millis += (text[at] - '0') * scale;
            scale /= 10;
            ++at;
        }
        if (at == first) return std::nullopt;
    }
    int offset_minutes = 0;
    if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
        ++at;
    } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
        const int sign = text[at] == '-' ? -1 : 1;
        ++at;
        int oh = 0, om = 0;
        if (!number(2, oh) || !expect(':') || !number(2, om)) return std::nullopt;
        offset_minutes = sign * (oh * 60 + om);
    } else {
        return std::nullopt;
    }
    if (at != text.size()) return std::nullopt;
    const year_month_day date{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
    if (!date.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
    const auto day_start = sys_days{date}.time_since_epoch();
    return duration_cast<milliseconds>(day_start).count() +
           ((h * 60 + mi - offset_minutes) * 60 + s) * std::int64_t{1000} + millis;
}

} // namespace invent_dispatch
