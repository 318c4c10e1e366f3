#pragma once
// UTC times as RFC 3339 text with milliseconds ("2026-11-29T22:12:05.123Z"),
// the form every journal record's `at` and the summary's times take.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace invent_dispatch {

inline constexpr std::size_t utc_text_size = 24;   // "YYYY-MM-DDTHH:MM:SS.mmmZ"

std::string format_utc(std::chrono::system_clock::time_point when);
// Milliseconds since the epoch from that form (an offset or no fraction
// accepted too); nullopt when malformed.
std::optional<std::int64_t> parse_utc_ms(std::string_view text) noexcept;

// The same, for a caller that stamps tens of thousands of records a second:
// the date and time up to the second are formatted once per second, so a
// stamp costs a clock read and three digits.
class utc_clock_text {
public:
    // The time `when` as text; valid until the next call.
    std::string_view format(std::chrono::system_clock::time_point when) noexcept;
    std::string_view now() noexcept { return format(std::chrono::system_clock::now()); }

private:
    std::int64_t second_ = INT64_MIN;   // the second text_ holds up to its '.'
    char text_[utc_text_size] = {};
};

}   // namespace invent_dispatch
