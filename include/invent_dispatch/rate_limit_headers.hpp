#pragma once
// What a server says about its own rate limit (SPEC §10): the IETF httpapi
// draft's RateLimit-Policy and RateLimit fields (draft-07's `100;w=60` and
// `limit=100, remaining=50, reset=5`, and drafts 08+'s `"p";q=100;w=60` and
// `"p";r=50;t=30`), or the common X-RateLimit-Limit/-Remaining/-Reset. Pure:
// raw header values in, numbers out; tested from strings.
#include <chrono>
#include <optional>
#include <string_view>

namespace invent_dispatch {

// The raw header values of one answer; empty when the header was absent.
struct rate_limit_fields {
    std::string_view ratelimit;   // RateLimit
    std::string_view ratelimit_policy;   // RateLimit-Policy
    std::string_view x_limit;   // X-RateLimit-Limit
    std::string_view x_remaining;   // X-RateLimit-Remaining
    std::string_view x_reset;   // X-RateLimit-Reset
};

struct advertised_limit {
    enum class style { draft, x } from = style::draft;
    std::optional<double> limit;   // requests allowed per window
    std::optional<double> window;   // the window in seconds (the policy's w)
    std::optional<double> remaining;   // requests left in the current window
    std::optional<double> reset;   // seconds until the quota resets (>= 0)
};

// The draft's fields win over the X- ones when they say anything usable. A
// malformed value (not a non-negative number, a limit or window of zero, a
// broken list) is ignored as if absent; nullopt when nothing usable is left.
// An X-RateLimit-Reset above 10^9 is a Unix time (as GitHub sends it) and
// becomes the seconds from now_wall.
std::optional<advertised_limit> parse_rate_limit_fields(const rate_limit_fields& fields,
                                                        std::chrono::system_clock::time_point now_wall) noexcept;

}   // namespace invent_dispatch
