#pragma once
// Retry-After (RFC 9110 §10.2.3): how long an answer asks us to wait. Read
// where the answers are read (the dispatcher, the contacts lister); the
// scheduler gets the wait, never the header.
#include <chrono>
#include <optional>
#include <string_view>

namespace invent_dispatch {

// The longest wait a Retry-After gives; a longer one is cut to it.
inline constexpr std::chrono::steady_clock::duration max_retry_after = std::chrono::hours(1);

// Delta-seconds or an HTTP date (IMF-fixdate, and the obsolete RFC 850 and
// asctime forms), relative to now_wall. A date in the past gives zero;
// anything longer than max_retry_after is cut to it. nullopt when the value
// is neither.
std::optional<std::chrono::steady_clock::duration>
parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now_wall) noexcept;

}   // namespace invent_dispatch
