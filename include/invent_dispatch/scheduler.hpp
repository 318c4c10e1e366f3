#pragma once
// The scheduler (SPEC §5): when a request may leave (token bucket shared by
// every connection, global Retry-After pause) and what to do with an attempt's
// outcome (retry policy, backoff with full jitter, auth abort). Pure logic over
// time points the caller passes in: tested with a fake clock, no sockets.
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <string_view>

#include "invent_dispatch/adaptive_rate.hpp"
#include "invent_dispatch/chat_request.hpp"
#include "invent_dispatch/failure_classifier.hpp"
#include "invent_dispatch/rate_limit_headers.hpp"

namespace invent_dispatch {

using clock_type = std::chrono::steady_clock;
using time_point = clock_type::time_point;
using duration = clock_type::duration;

struct rate_limit {
    double per_second = 0;   // > 0; with adaptive, the ceiling MAX
    double burst = 1;   // bucket size, >= 1
    bool adaptive = false;   // --rate auto[:MAX]: the rate is found (adaptive_rate.hpp)
};

// GCRA token bucket: over any window of length T at most burst + rate*T grants.
// Times are integer nanoseconds and the emission interval carries a 32-bit
// binary fraction of a nanosecond, so the achieved rate does not drift however
// long the run and however high the rate.
//
// It starts empty: the first grants are one interval apart, and the burst is
// credit earned by idling. A run started right after another one stopped (a
// resumed batch) thus adds no burst on top of the rate the server has just
// seen; and requests held up by the start-up (connections still opening) do
// not land on top of a burst, which once gave the server 511 requests in one
// second for --rate 500 --burst 10.
class token_bucket {
public:
    explicit token_bucket(rate_limit limit) noexcept;
    // Reserves the next grant; returns when it may be used (>= now). Calls at
    // the same `now` get increasing times 1/rate apart once the burst is used.
    time_point reserve(time_point now) noexcept;
    // A new rate from `now` on (the adaptive rate). Grants already made keep
    // their times; after a cut, the next grant waits as if the grants still
    // owed had been made at the new rate.
    void set_rate(double per_second, time_point now) noexcept;

private:
    void set_interval(double per_second) noexcept;
    long double interval_ns() const noexcept;

    double burst_;
    duration interval_;   // whole nanoseconds of 1/rate
    std::uint64_t interval_fraction_ = 0;   // and its fraction, in 2^-32 ns
    duration tolerance_{};   // (burst - 1) * interval
    bool started_ = false;
    time_point theoretical_arrival_{};   // whole nanoseconds of the TAT
    std::uint64_t arrival_fraction_ = 0;   // and its fraction, in 2^-32 ns
};

struct retry_config {
    unsigned max_attempts = 5;
    duration backoff_base = std::chrono::milliseconds(250);
    duration backoff_cap = std::chrono::seconds(30);
    bool retry_ambiguous = false;   // --retry-ambiguous
    unsigned auth_failures_to_abort = 3;   // 401/403 in a row
    unsigned fail_fast = 20;   // --fail-fast: the same transport failure in a row (0: never)
};

// How one attempt ended, as the failure classifier judged it.
struct attempt_report {
    classified_attempt classified;
    int http_status = 0;   // 0 when no answer
    std::optional<duration> retry_after;   // parsed Retry-After, when present
    std::uint64_t send_sequence = 0;   // from scheduler::on_send, when the request left
    std::optional<advertised_limit> advertised{};   // parsed rate-limit headers, when present

    // A 429 or 503 with a Retry-After speaks for every connection: the whole
    // dispatcher waits.
    bool pauses_every_request() const noexcept { return retry_after && (http_status == 429 || http_status == 503); }
};

// Why a batch stops (abort_batch).
enum class abort_reason : std::uint8_t { auth, certificate, fail_fast };

struct retry_decision {
    enum class action { finish, retry, abort_batch } what = action::finish;
    // With finish and abort_batch, the row's outcome; with retry, its outcome
    // should the batch stop before the retry leaves (unknown after an
    // ambiguous attempt, failed otherwise).
    outcome final_outcome = outcome::failed;
    time_point not_before{};   // with retry
    // With retry: false for a retry that does not use up an attempt (a stale
    // keep-alive connection). The caller then resends with the same
    // attempt_number and counts the retry in its stale_retries instead
    // (row_attempts does that for a row).
    bool consumes_attempt = true;
    abort_reason why = abort_reason::auth;   // with abort_batch
};

// One per dispatcher, shared by every worker and row; not thread-safe, so
// used from one thread or strand.
class scheduler {
public:
    scheduler(std::optional<rate_limit> rate, retry_config retry, std::uint64_t seed);

    // When the next request may leave: a bucket grant, and not before a global
    // pause ends. Reserves the grant. The grant is taken at the pause's end,
    // so the requests waiting out a pause leave at the rate, not all at once.
    time_point reserve_send(time_point now);
    // A pause that began while the caller waited: when it ends, if it is still
    // on. The grant the caller holds dates from before the pause; after
    // waiting the pause out, it should call reserve_send again (or every
    // worker holding a grant would send the moment the pause ends, past the
    // rate):
    //     auto when = reserve_send(now());  sleep until when;
    //     while (pause_end(now())) { when = reserve_send(now()); sleep until when; }
    std::optional<time_point> pause_end(time_point now) const noexcept;
    // With a rate: when the last second already holds burst + rate sends,
    // the time a send may leave; nullopt to send now (and then on_send, with
    // nothing awaited between). The bucket paces the grants, but a grant used
    // late (this process not scheduled for a while, or a group commit of the
    // journal releasing many rows at once) would leave together with the
    // grants after it, and the server's one-second window would count more
    // than the rate. Asked right before sending; a send it held takes a new
    // grant once the window has room, so that sends held by a bunch of a
    // second ago leave spaced by the rate, not bunched again:
    //     while (auto later = window_full_until(now())) {
    //         sleep until *later;  sleep until reserve_send(now());
    //     }
    std::optional<time_point> window_full_until(time_point now);
    // A request leaves now: its sequence number for attempt_report, so that
    // the adaptive rate knows which rate its answer speaks of (0 without it).
    std::uint64_t on_send(time_point now);

    // attempt_number counts from 1 and grows only with retries whose
    // consumes_attempt is true; stale_retries counts this row's retries whose
    // consumes_attempt was false (no default: a caller that did not count them
    // could resend forever). At most max_attempts of those are granted; after
    // that a stale connection counts as an ordinary connect failure.
    // Updates the pause (429/503 Retry-After) and the breakers: the run of
    // 401/403 answers, a certificate failure, and the run of one transport
    // failure (fail_fast). Once aborted(), nothing is retried any more. With
    // --rate auto, an HTTP answer also adjusts the rate, and the bucket keeps the new one.
    retry_decision on_attempt(const attempt_report& attempt, unsigned attempt_number, time_point now,
                              unsigned stale_retries);

    bool aborted() const noexcept;
    std::uint64_t retries() const noexcept;
    // With --rate auto: the controller (its current rate and its last change).
    const adaptive_rate* adaptive() const noexcept { return adaptive_ ? &*adaptive_ : nullptr; }

private:
    retry_decision retry_with_backoff(unsigned attempt_number, time_point now, outcome if_exhausted);
    retry_decision retry_at(time_point not_before, bool consumes_attempt, outcome if_stopped);
    retry_decision abort(abort_reason why);
    bool may_retry(unsigned attempt_number) const noexcept;
    duration backoff(unsigned attempt_number);

    void set_window_limit(double per_second) noexcept;

    std::optional<token_bucket> bucket_;
    double burst_ = 1;
    std::size_t window_limit_ = 0;   // burst + rate, the sends any second may hold
    std::deque<time_point> sent_in_window_;   // with a rate: the sends of the last second
    std::optional<adaptive_rate> adaptive_;
    retry_config retry_;
    std::mt19937_64 rng_;
    time_point paused_until_{};
    unsigned auth_failures_in_a_row_ = 0;
    unsigned transport_failures_in_a_row_ = 0;
    transport_failure last_transport_failure_ = transport_failure::none;
    bool aborted_ = false;
    std::uint64_t retries_ = 0;
};

}   // namespace invent_dispatch
