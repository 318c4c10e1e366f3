#include "invent_dispatch/utc_time.hpp"

#include <charconv>
#include <cstdio>
#include <ctime>

namespace invent_dispatch {

std::string format_utc(std::chrono::system_clock::time_point when) {
    utc_clock_text text;
    return std::string(text.format(when));
}

std::string_view utc_clock_text::format(std::chrono::system_clock::time_point when) noexcept {
    using namespace std::chrono;
    const auto millis = floor<milliseconds>(when).time_since_epoch().count();
    auto second = millis / 1000;
    auto milli = millis % 1000;
    if (milli < 0) {   // before 1970: floor, not truncation
        milli += 1000;
        --second;
    }
    if (second != second_) {
        const std::time_t seconds = static_cast<std::time_t>(second);
        std::tm parts{};
        ::gmtime_r(&seconds, &parts);
        char buffer[64];   // "YYYY-MM-DDTHH:MM:SS.", with room for any int the fields could hold
        std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.", parts.tm_year + 1900, parts.tm_mon + 1,
                      parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec);
        std::char_traits<char>::copy(text_, buffer, utc_text_size - 4);
        text_[utc_text_size - 1] = 'Z';
        second_ = second;
    }
    text_[20] = static_cast<char>('0' + milli / 100);
    text_[21] = static_cast<char>('0' + milli / 10 % 10);
    text_[22] = static_cast<char>('0' + milli % 10);
    return {text_, utc_text_size};
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

}   // namespace invent_dispatch
