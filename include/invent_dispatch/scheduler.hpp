#pragma once
// The scheduler (SPEC §5): when a request may leave (token bucket shared by
// every connection, global Retry-After pause) and what to do with an attempt's
// outcome (retry policy, backoff with full jitter, auth abort). Pure logic over
// time points the caller passes in: tested with a fake clock, no sockets.
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string_view>

#include "invent_dispatch/chat_request.hpp"

namespace invent_dispatch {

using clock_type = std::chrono::steady_clock;
using time_point = clock_type::time_point;
using duration = clock_type::duration;

struct rate_limit {
    double per_second = 0;   // > 0
    double burst = 1;        // bucket size, >= 1
};

// "8", "8/s", "480/min", "2/h" -> requests per second. nullopt when malformed.
std::optional<double> parse_rate(std::string_view text) noexcept;

// Retry-After: delta-seconds or an HTTP date (RFC 9110), relative to now_wall.
std::optional<duration> parse_retry_after(std::string_view value,
                                          std::chrono::system_clock::time_point now_wall) noexcept;

// GCRA token bucket: over any window of length T at most burst + rate*T grants.
class token_bucket {
public:
    explicit token_bucket(rate_limit limit) noexcept;
    // Reserves the next grant; returns when it may be used (>= now).
    time_point reserve(time_point now) noexcept;

private:
    duration interval_;
    duration tolerance_;   // (burst - 1) * interval
    time_point theoretical_arrival_{};
};

struct retry_config {
    unsigned max_attempts = 5;
    duration backoff_base = std::chrono::milliseconds(250);
    duration backoff_cap = std::chrono::seconds(30);
    bool retry_ambiguous = false;          // --retry-ambiguous
    unsigned auth_failures_to_abort = 3;   // 401/403 in a row
};

// How one attempt ended, as the HTTP client saw it.
struct attempt_report {
    boost::system::error_code ec;          // dispatch_errc, or none when an HTTP answer came
    int http_status = 0;                   // 0 when no answer
    std::optional<duration> retry_after;   // parsed Retry-After, when present
};

struct retry_decision {
    enum class action { finish, retry, abort_batch } what = action::finish;
    outcome final_outcome = outcome::failed;   // with finish
    time_point not_before{};                   // with retry
};

class scheduler {
public:
    scheduler(std::optional<rate_limit> rate, retry_config retry, std::uint64_t seed);

    // When the next request may leave: a bucket grant, and not before a global
    // pause ends. Reserves the grant.
    time_point reserve_send(time_point now);
    // A pause that began while the caller waited: when it ends, if it is still on.
    std::optional<time_point> pause_end(time_point now) const noexcept;

    // attempt_number counts from 1. Updates the pause (429/503 Retry-After)
    // and the run of 401/403 answers.
    retry_decision on_attempt(const attempt_report& report, unsigned attempt_number, time_point now);

    bool aborted() const noexcept;
    std::uint64_t retries() const noexcept;

private:
    std::optional<token_bucket> bucket_;
    retry_config retry_;
    std::mt19937_64 rng_;
    time_point paused_until_{};
    unsigned auth_failures_in_a_row_ = 0;
    bool aborted_ = false;
    std::uint64_t retries_ = 0;
};

} // namespace invent_dispatch
