#include "invent_dispatch/utc_time.hpp"

#include <ctime>
#include <cstdio>

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
        std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.", parts.tm_year + 1900,
                      parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec);
        std::char_traits<char>::copy(text_, buffer, utc_text_size - 4);
        text_[utc_text_size - 1] = 'Z';
        second_ = second;
    }
    text_[20] = static_cast<char>('0' + milli / 100);
    text_[21] = static_cast<char>('0' + milli / 10 % 10);
    text_[22] = static_cast<char>('0' + milli % 10);
    return {text_, utc_text_size};
}

} // namespace invent_dispatch
