#include <boost/system/errc.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "invent_dispatch/errors.hpp"
#include "invent_dispatch/scheduler.hpp"

using namespace invent_dispatch;
using namespace std::chrono_literals;

namespace {

// The fake clock: plain time points the tests advance by hand.
const time_point t0 = time_point{} + 1h;

// Durations and instants as nanosecond counts, which Boost.Test can print.
constexpr std::int64_t ns(duration d) {
    return d.count();
}
std::int64_t after_t0(time_point t) {
    return (t - t0).count();
}

// Attempts as the classifier judges them (failure_classifier_test covers it).
attempt_report http(int status, std::optional<duration> retry_after = std::nullopt) {
    return {classify_attempt(attempt_stage::answered, {}, status), status, retry_after};
}
attempt_report answered_with(dispatch_errc e, int status) {
    return {classify_attempt(attempt_stage::answered, e, status), status, std::nullopt};
}
attempt_report failure(dispatch_errc e) {
    const bool sent = e == dispatch_errc::response_timeout || e == dispatch_errc::connection_lost ||
                      e == dispatch_errc::bad_http_response;
    return {classify_attempt(sent ? attempt_stage::read : attempt_stage::connect, e, 0), 0, std::nullopt};
}

// "finish created", "retry", "abort_batch failed": one printable word pair.
std::string verdict(const retry_decision& d) {
    switch (d.what) {
    case retry_decision::action::retry: return "retry";
    case retry_decision::action::finish: return "finish " + std::string(to_string(d.final_outcome));
    case retry_decision::action::abort_batch: return "abort_batch " + std::string(to_string(d.final_outcome));
    }
    return "?";
}

// The most grants any window [t, t + window] holds (closed at both ends, the
// stricter reading). grants must be sorted.
std::size_t max_in_window(const std::vector<time_point>& grants, duration window) {
    std::size_t best = 0;
    std::size_t end = 0;
    for (std::size_t begin = 0; begin < grants.size(); ++begin) {
        while (end < grants.size() && grants[end] <= grants[begin] + window) ++end;
        best = std::max(best, end - begin);
    }
    return best;
}

retry_config config_with(unsigned max_attempts) {
    retry_config c;
    c.max_attempts = max_attempts;
    return c;
}

}   // namespace

BOOST_AUTO_TEST_SUITE(scheduler)

// --- token bucket ---------------------------------------------------------

BOOST_AUTO_TEST_CASE(bucket_starts_empty_and_spaces_by_the_interval) {
    token_bucket bucket({10, 3});
    std::vector<std::int64_t> got;
    for (int i = 0; i < 4; ++i) got.push_back(after_t0(bucket.reserve(t0)));
    const std::vector<std::int64_t> expected{0, ns(100ms), ns(200ms), ns(300ms)};
    BOOST_TEST(got == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(bucket_grants_the_burst_after_idling) {
    token_bucket bucket({10, 3});
    bucket.reserve(t0);
    const time_point later = t0 + 10s;
    std::vector<std::int64_t> got;
    for (int i = 0; i < 6; ++i) got.push_back(after_t0(bucket.reserve(later)) - after_t0(later));
    const std::vector<std::int64_t> expected{0, 0, 0, ns(100ms), ns(200ms), ns(300ms)};
    BOOST_TEST(got == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(bucket_without_burst_spaces_from_the_first_grant) {
    token_bucket bucket({4, 1});
    BOOST_TEST(after_t0(bucket.reserve(t0)) == 0);
    BOOST_TEST(after_t0(bucket.reserve(t0)) == ns(250ms));
    // A caller that comes back later than its slot is served at once.
    BOOST_TEST(after_t0(bucket.reserve(t0 + 2s)) == ns(2s));
    BOOST_TEST(after_t0(bucket.reserve(t0 + 2s)) == ns(2250ms));
}

BOOST_AUTO_TEST_CASE(a_fractional_interval_rounds_grants_up_never_early) {
    // 1/3 s is 333333333.33 ns: a grant rounded down would let the fourth one
    // in 999999999 ns, one more than 1 + 3 * 0.999999999 allows.
    token_bucket bucket({3, 1});
    std::vector<std::int64_t> got;
    for (int i = 0; i < 4; ++i) got.push_back(after_t0(bucket.reserve(t0)));
    const std::vector<std::int64_t> expected{0, 333'333'334, 666'666'667, 1'000'000'000};
    BOOST_TEST(got == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(idle_refill_is_capped_at_the_burst) {
    token_bucket bucket({10, 3});
    for (int i = 0; i < 20; ++i) bucket.reserve(t0);   // deep into debt
    const time_point later = t0 + 1h;
    std::vector<std::int64_t> got;
    for (int i = 0; i < 5; ++i) got.push_back(after_t0(bucket.reserve(later)) - after_t0(later));
    const std::vector<std::int64_t> expected{0, 0, 0, ns(100ms), ns(200ms)};
    BOOST_TEST(got == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(no_window_ever_holds_more_than_burst_plus_rate_times_length) {
    struct limit_case {
        double rate;
        double burst;
    };
    for (const limit_case limit :
         {limit_case{500, 10}, limit_case{333.3, 7}, limit_case{8, 1}, limit_case{0.5, 2}, limit_case{4800, 100}}) {
        BOOST_TEST_CONTEXT("rate " << limit.rate << " burst " << limit.burst) {
            token_bucket bucket({limit.rate, limit.burst});
            // A simulated run in phases of up to 10 s: saturation (many callers
            // at the same instant, each coming back as soon as its grant is
            // due), a sparse trickle, and idleness that refills the bucket.
            std::mt19937_64 rng(42);
            const auto uniform = [&rng](std::int64_t low, std::int64_t high) {
                return std::uniform_int_distribution<std::int64_t>(low, high)(rng);
            };
            const auto interval_ns = static_cast<std::int64_t>(1e9 / limit.rate);
            std::vector<time_point> grants;
            time_point now = t0;
            const time_point end = t0 + 120s;
            while (now < end) {
                const time_point phase_end = now + duration(uniform(0, ns(10s)));
                const auto phase = uniform(0, 2);
                while (phase != 2 && now < phase_end) {
                    const auto callers = phase == 0 ? uniform(1, 40) : uniform(0, 2);
                    time_point latest = now;
                    for (std::int64_t i = 0; i < callers; ++i) {
                        latest = bucket.reserve(now);
                        BOOST_TEST_REQUIRE(after_t0(latest) >= after_t0(now));
                        grants.push_back(latest);
                    }
                    now = phase == 0 ? latest : now + duration(uniform(0, 10 * interval_ns));
                }
                now = std::max(now, phase_end);
            }
            BOOST_TEST_REQUIRE(std::is_sorted(grants.begin(), grants.end()));
            for (const duration window : {duration(1ms), duration(100ms), duration(1s), duration(7s)}) {
                const double seconds = std::chrono::duration<double>(window).count();
                const auto bound = static_cast<std::size_t>(limit.burst + limit.rate * seconds + 1e-9);
                const auto seen = max_in_window(grants, window);
                BOOST_TEST_CONTEXT("window " << seconds << " s") {
                    BOOST_TEST(seen <= bound);
                    // The simulation really pushes the bucket to its limit.
                    if (limit.rate * seconds >= 1) BOOST_TEST(seen + 1 >= bound);
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(a_cut_pushes_the_next_grant_out_as_if_the_owed_grants_were_at_the_new_rate) {
    token_bucket bucket({10, 1});
    for (int i = 0; i < 3; ++i) bucket.reserve(t0);   // 0, 100, 200 ms: 300 ms owed
    bucket.set_rate(5, t0 + 50ms);   // 250 ms owed = 2.5 grants = 500 ms at 5/s
    BOOST_TEST(after_t0(bucket.reserve(t0 + 50ms)) == ns(550ms));
    BOOST_TEST(after_t0(bucket.reserve(t0 + 50ms)) == ns(750ms));
}

BOOST_AUTO_TEST_CASE(a_raise_keeps_the_grants_already_made_ahead) {
    token_bucket bucket({10, 1});
    for (int i = 0; i < 3; ++i) bucket.reserve(t0);   // 0, 100, 200 ms
    bucket.set_rate(20, t0);
    // Not at 150 ms, between grants already made: after them, at the new interval.
    BOOST_TEST(after_t0(bucket.reserve(t0)) == ns(300ms));
    BOOST_TEST(after_t0(bucket.reserve(t0)) == ns(350ms));
    // An idle bucket simply takes the new interval.
    token_bucket idle({10, 1});
    idle.reserve(t0);
    idle.set_rate(2, t0 + 10s);
    BOOST_TEST(after_t0(idle.reserve(t0 + 10s)) == ns(10s));
    BOOST_TEST(after_t0(idle.reserve(t0 + 10s)) == ns(10500ms));
}

BOOST_AUTO_TEST_CASE(the_rate_in_force_bounds_every_window_across_changes) {
    // Saturating callers while the rate is cut and raised: any window that
    // starts at or after a change and ends before the next holds at most
    // burst + rate*T grants, the grants made before the change included.
    const double burst = 5;
    token_bucket bucket({500, burst});
    std::mt19937_64 rng(7);
    const auto uniform = [&rng](std::int64_t low, std::int64_t high) {
        return std::uniform_int_distribution<std::int64_t>(low, high)(rng);
    };
    const std::vector<double> rates{500, 120, 1000, 10, 450, 50, 3000, 2};
    std::vector<time_point> grants;
    std::vector<time_point> changes{t0};
    time_point now = t0;
    for (std::size_t phase = 0; phase < rates.size(); ++phase) {
        if (phase > 0) {
            bucket.set_rate(rates[phase], now);
            changes.push_back(now);
        }
        const time_point phase_end = now + duration(uniform(ns(500ms), ns(3s)));
        while (now < phase_end) {
            time_point latest = now;
            for (std::int64_t i = uniform(1, 40); i > 0; --i) grants.push_back(latest = bucket.reserve(now));
            now = latest;
        }
    }
    changes.push_back(time_point::max());
    std::sort(grants.begin(), grants.end());
    for (std::size_t phase = 0; phase < rates.size(); ++phase) {
        const auto first = std::lower_bound(grants.begin(), grants.end(), changes[phase]);
        const auto last = std::lower_bound(grants.begin(), grants.end(), changes[phase + 1]);
        const std::vector<time_point> in_phase(first, last);
        for (const duration window : {duration(1ms), duration(100ms), duration(1s)}) {
            const double seconds = std::chrono::duration<double>(window).count();
            const auto bound = static_cast<std::size_t>(burst + rates[phase] * seconds + 1e-9);
            BOOST_TEST_CONTEXT("rate " << rates[phase] << " window " << seconds << " s") {
                BOOST_TEST(max_in_window(in_phase, window) <= bound);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(achieved_rate_over_ten_seconds_is_within_a_thousandth) {
    // High rates are where whole-nanosecond intervals would drift: 1e9/3e6 is
    // 333.33 ns and 1e9/7e6 is 142.86 ns, 0.1% off if rounded.
    for (const double rate : {500.0, 333.3, 123456.7, 3e6, 7e6}) {
        BOOST_TEST_CONTEXT("rate " << rate) {
            const double burst = 5;
            token_bucket bucket({rate, burst});
            const time_point end = t0 + 10s;
            std::uint64_t granted = 0;
            // One caller sending back to back: it reserves again the moment
            // its grant is due.
            for (time_point now = t0;; ++granted) {
                now = bucket.reserve(now);
                if (now >= end) break;
            }
            // The bucket starts empty, so every grant is one interval after the last.
            const double achieved = static_cast<double>(granted) / 10.0;
            BOOST_TEST(achieved == rate, boost::test_tools::tolerance(0.001));
        }
    }
}

// --- pause ----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(retry_after_pauses_every_later_send) {
    invent_dispatch::scheduler sched(std::nullopt, {}, 1);
    BOOST_TEST(after_t0(sched.reserve_send(t0)) == 0);

    const auto d = sched.on_attempt(http(429, 5s), 1, t0, 0);
    BOOST_TEST(verdict(d) == "retry");
    BOOST_TEST(after_t0(d.not_before) == ns(5s));

    BOOST_TEST(after_t0(sched.reserve_send(t0 + 1s)) == ns(5s));
    BOOST_TEST(after_t0(sched.reserve_send(t0 + 4999ms)) == ns(5s));
    BOOST_TEST(after_t0(sched.reserve_send(t0 + 6s)) == ns(6s));
}

BOOST_AUTO_TEST_CASE(pause_end_reports_a_pause_only_while_it_lasts) {
    invent_dispatch::scheduler sched(std::nullopt, {}, 1);
    BOOST_TEST(!sched.pause_end(t0));
    sched.on_attempt(http(503, 3s), 1, t0, 0);
    BOOST_TEST_REQUIRE(sched.pause_end(t0 + 1s).has_value());
    BOOST_TEST(after_t0(*sched.pause_end(t0 + 1s)) == ns(3s));
    BOOST_TEST(!sched.pause_end(t0 + 3s));
    BOOST_TEST(!sched.pause_end(t0 + 4s));
}

BOOST_AUTO_TEST_CASE(a_shorter_retry_after_does_not_shorten_a_longer_pause) {
    invent_dispatch::scheduler sched(std::nullopt, {}, 1);
    sched.on_attempt(http(503, 10s), 1, t0, 0);
    const auto shorter = sched.on_attempt(http(429, 2s), 1, t0 + 1s, 0);
    BOOST_TEST(after_t0(shorter.not_before) == ns(10s));
    BOOST_TEST(after_t0(*sched.pause_end(t0 + 1s)) == ns(10s));

    const auto longer = sched.on_attempt(http(429, 30s), 1, t0 + 2s, 0);
    BOOST_TEST(after_t0(longer.not_before) == ns(32s));
    BOOST_TEST(after_t0(sched.reserve_send(t0 + 3s)) == ns(32s));
}

BOOST_AUTO_TEST_CASE(requests_after_a_pause_leave_at_the_rate) {
    // Eight callers held up by a pause must not all leave when it ends; the
    // bucket, idle during the pause, grants its burst and then the rate.
    invent_dispatch::scheduler sched(rate_limit{10, 2}, {}, 1);
    BOOST_TEST(after_t0(sched.reserve_send(t0)) == 0);   // the request that meets the 429
    sched.on_attempt(http(429, 60s), 1, t0, 0);
    std::vector<std::int64_t> got;
    for (int i = 0; i < 5; ++i) got.push_back(after_t0(sched.reserve_send(t0 + 1s)));
    const std::vector<std::int64_t> expected{ns(60s), ns(60s), ns(60100ms), ns(60200ms), ns(60300ms)};
    BOOST_TEST(got == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(callers_holding_grants_when_a_pause_begins_reserve_again) {
    invent_dispatch::scheduler sched(rate_limit{10, 1}, {}, 1);
    std::vector<time_point> held;
    for (int i = 0; i < 4; ++i) held.push_back(sched.reserve_send(t0));   // t0 + 0, 100, 200, 300 ms
    // The first request leaves and meets a 429 that pauses everyone for 10 s.
    const auto first = sched.on_attempt(http(429, 10s), 1, t0 + 50ms, 0);

    // The other three wake at their grants and follow the documented loop.
    std::vector<std::int64_t> sent;
    for (std::size_t i = 1; i < held.size(); ++i) {
        time_point now = held[i];
        while (sched.pause_end(now)) now = sched.reserve_send(now);   // and sleep until then
        sent.push_back(after_t0(now));
    }
    sent.push_back(after_t0(sched.reserve_send(first.not_before)));   // the retry
    const std::vector<std::int64_t> expected{ns(10050ms), ns(10150ms), ns(10250ms), ns(10350ms)};
    BOOST_TEST(sent == expected, boost::test_tools::per_element());
}

// The largest number of `sends` (sorted) in any window [a, a + window).
std::size_t most_in_any_window(const std::vector<time_point>& sends, duration window) {
    std::size_t most = 0;
    for (std::size_t first = 0, last = 0; last < sends.size(); ++last) {
        while (sends[last] - sends[first] >= window) ++first;
        most = std::max(most, last - first + 1);
    }
    return most;
}

BOOST_AUTO_TEST_CASE(a_stall_of_the_process_does_not_bunch_the_grants_it_missed) {
    // 64 callers at 300/s follow the documented loop, each sending again
    // 20 ms after its last send. The process is not scheduled for 20 ms at
    // 1.5 s: every wake-up due in that time happens at its end. The grants
    // the stall held, used that late, would leave with the next second's
    // 300, where the server's one-second window counts them.
    invent_dispatch::scheduler sched(rate_limit{300, 1}, {}, 1);
    const time_point stall_begin = t0 + 1500ms, stall_end = stall_begin + 20ms;
    const auto wake = [&](time_point at) { return at >= stall_begin && at < stall_end ? stall_end : at; };
    std::priority_queue<time_point, std::vector<time_point>, std::greater<>> wake_ups;
    for (int i = 0; i < 64; ++i) wake_ups.push(wake(sched.reserve_send(t0)));
    std::vector<time_point> sends;
    while (!wake_ups.empty() && wake_ups.top() < t0 + 4s) {
        const time_point now = wake_ups.top();
        wake_ups.pop();
        if (const auto later = sched.window_full_until(now)) {   // sleep until then, and ask again
            wake_ups.push(wake(*later));
            continue;
        }
        sched.on_send(now);
        sends.push_back(now);
        wake_ups.push(wake(sched.reserve_send(now + 20ms)));
    }
    BOOST_TEST(most_in_any_window(sends, 1s) <= 301U);   // burst + rate * 1 s
    // Held, not dropped: the rate over the run is the bucket's, but for the stall.
    BOOST_TEST(sends.size() >= 1194U);   // 300/s * (4 s - 20 ms)
}

BOOST_AUTO_TEST_CASE(retry_after_is_honoured_only_on_429_and_503) {
    invent_dispatch::scheduler sched(std::nullopt, {}, 1);
    const auto d = sched.on_attempt(http(500, 60s), 1, t0, 0);
    BOOST_TEST(verdict(d) == "retry");
    BOOST_TEST(after_t0(d.not_before) <= ns(250ms));
    BOOST_TEST(!sched.pause_end(t0));
}

BOOST_AUTO_TEST_CASE(a_429_without_retry_after_backs_off_without_pausing) {
    invent_dispatch::scheduler sched(std::nullopt, {}, 1);
    const auto d = sched.on_attempt(http(429), 1, t0, 0);
    BOOST_TEST(verdict(d) == "retry");
    BOOST_TEST(after_t0(d.not_before) <= ns(250ms));
    BOOST_TEST(!sched.pause_end(t0));
}

BOOST_AUTO_TEST_CASE(the_pause_holds_even_when_the_row_has_no_attempt_left) {
    invent_dispatch::scheduler sched(std::nullopt, config_with(2), 1);
    BOOST_TEST(verdict(sched.on_attempt(http(429, 9s), 2, t0, 0)) == "finish failed");
    BOOST_TEST(after_t0(*sched.pause_end(t0)) == ns(9s));
}

// --- retry table ----------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_2xx_answer_creates) {
    for (const int status : {200, 201, 202, 299}) {
        invent_dispatch::scheduler sched(std::nullopt, {}, 1);
        BOOST_TEST(verdict(sched.on_attempt(http(status), 1, t0, 0)) == "finish created", "status " << status);
    }
}

BOOST_AUTO_TEST_CASE(a_2xx_that_is_not_a_chat_is_unknown_without_retry) {
    invent_dispatch::scheduler sched(std::nullopt, {}, 1);
    BOOST_TEST(verdict(sched.on_attempt(answered_with(dispatch_errc::not_a_chat, 200), 1, t0, 0)) == "finish unknown");
    BOOST_TEST(verdict(sched.on_attempt(answered_with(dispatch_errc::bad_http_response, 201), 1, t0, 0)) ==
               "finish unknown");
    BOOST_TEST(sched.retries() == 0u);
}

BOOST_AUTO_TEST_CASE(transient_statuses_are_retried_with_backoff) {
    for (const int status : {408, 429, 500, 502, 503, 504}) {
        BOOST_TEST_CONTEXT("status " << status) {
            invent_dispatch::scheduler sched(std::nullopt, {}, 1);
            const auto d = sched.on_attempt(http(status), 1, t0, 0);
            BOOST_TEST(verdict(d) == "retry");
            BOOST_TEST(d.consumes_attempt);
            BOOST_TEST(after_t0(d.not_before) >= 0);
            BOOST_TEST(after_t0(d.not_before) <= ns(250ms));
            BOOST_TEST(sched.retries() == 1u);
        }
    }
}

BOOST_AUTO_TEST_CASE(an_answer_whose_framing_failed_after_its_status_line_is_judged_by_its_status) {
    invent_dispatch::scheduler sched(std::nullopt, {}, 1);
    BOOST_TEST(verdict(sched.on_attempt(answered_with(dispatch_errc::bad_http_response, 503), 1, t0, 0)) == "retry");
    BOOST_TEST(verdict(sched.on_attempt(answered_with(dispatch_errc::bad_http_response, 404), 1, t0, 0)) ==
               "finish failed");
}

BOOST_AUTO_TEST_CASE(other_answers_fail_without_retry) {
    for (const int status : {100, 304, 400, 404, 405, 409, 410, 413, 422, 501, 505}) {
        invent_dispatch::scheduler sched(std::nullopt, {}, 1);
        BOOST_TEST(verdict(sched.on_attempt(http(status), 1, t0, 0)) == "finish failed", "status " << status);
        BOOST_TEST(sched.retries() == 0u);
    }
}

BOOST_AUTO_TEST_CASE(failures_before_sending_are_retried_with_backoff) {
    for (const auto e :
         {dispatch_errc::connect_failed, dispatch_errc::tls_handshake_failed, dispatch_errc::connect_timeout}) {
        invent_dispatch::scheduler sched(std::nullopt, {}, 1);
        const auto d = sched.on_attempt(failure(e), 1, t0, 0);
        BOOST_TEST(verdict(d) == "retry", make_error_code(e).message());
        BOOST_TEST(d.consumes_attempt);
        BOOST_TEST(after_t0(d.not_before) <= ns(250ms));
    }
}

BOOST_AUTO_TEST_CASE(max_attempts_exhausted_fails_the_row) {
    for (const attempt_report& report : {http(503), http(429, 1s), failure(dispatch_errc::connect_failed)}) {
        invent_dispatch::scheduler sched(std::nullopt, config_with(5), 1);
        // The dispatcher's loop, as it runs against a server that keeps failing.
        unsigned attempt = 1;
        time_point now = t0;
        retry_decision d;
        for (;; ++attempt) {
            now = sched.reserve_send(now);
            d = sched.on_attempt(report, attempt, now, 0);
            if (d.what != retry_decision::action::retry) break;
            now = d.not_before;
        }
        BOOST_TEST(verdict(d) == "finish failed");
        BOOST_TEST(attempt == 5u);
        BOOST_TEST(sched.retries() == 4u);
    }
}

BOOST_AUTO_TEST_CASE(a_request_sent_without_answer_is_unknown) {
    for (const auto e :
         {dispatch_errc::response_timeout, dispatch_errc::connection_lost, dispatch_errc::bad_http_response}) {
        invent_dispatch::scheduler sched(std::nullopt, {}, 1);
        BOOST_TEST(verdict(sched.on_attempt(failure(e), 1, t0, 0)) == "finish unknown", make_error_code(e).message());
        BOOST_TEST(sched.retries() == 0u);
    }
}

BOOST_AUTO_TEST_CASE(retry_ambiguous_retries_until_attempts_run_out_then_unknown) {
    retry_config config = config_with(3);
    config.retry_ambiguous = true;
    for (const auto e :
         {dispatch_errc::response_timeout, dispatch_errc::connection_lost, dispatch_errc::bad_http_response}) {
        BOOST_TEST_CONTEXT(make_error_code(e).message()) {
            invent_dispatch::scheduler sched(std::nullopt, config, 1);
            BOOST_TEST(verdict(sched.on_attempt(failure(e), 1, t0, 0)) == "retry");
            BOOST_TEST(verdict(sched.on_attempt(failure(e), 2, t0, 0)) == "retry");
            BOOST_TEST(verdict(sched.on_attempt(failure(e), 3, t0, 0)) == "finish unknown");
        }
    }
}

BOOST_AUTO_TEST_CASE(a_stale_connection_is_resent_at_once_without_using_an_attempt) {
    invent_dispatch::scheduler sched(std::nullopt, config_with(5), 1);
    const auto d = sched.on_attempt(failure(dispatch_errc::stale_connection), 5, t0 + 7s, 0);
    BOOST_TEST(verdict(d) == "retry");
    BOOST_TEST(!d.consumes_attempt);
    BOOST_TEST(after_t0(d.not_before) == ns(7s));
    BOOST_TEST(sched.retries() == 1u);
}

BOOST_AUTO_TEST_CASE(stale_connections_every_time_still_end) {
    invent_dispatch::scheduler sched(std::nullopt, config_with(5), 1);
    unsigned attempt = 1;
    unsigned stale_retries = 0;
    unsigned sent = 0;
    time_point now = t0;
    retry_decision d;
    for (;;) {
        ++sent;
        d = sched.on_attempt(failure(dispatch_errc::stale_connection), attempt, now, stale_retries);
        if (d.what != retry_decision::action::retry) break;
        if (d.consumes_attempt)
            ++attempt;
        else
            ++stale_retries;
        now = d.not_before;
        BOOST_TEST_REQUIRE(sent < 100u);
    }
    // Five free resends, then the five attempts of an ordinary connect failure.
    BOOST_TEST(verdict(d) == "finish failed");
    BOOST_TEST(stale_retries == 5u);
    BOOST_TEST(attempt == 5u);
    BOOST_TEST(sent == 10u);
}

BOOST_AUTO_TEST_CASE(a_rejected_certificate_stops_the_batch_at_once) {
    invent_dispatch::scheduler sched(std::nullopt, {}, 1);
    const auto d = sched.on_attempt(failure(dispatch_errc::tls_verify_failed), 1, t0, 0);
    BOOST_TEST(verdict(d) == "abort_batch failed");
    BOOST_TEST((d.why == abort_reason::certificate));
    BOOST_TEST(sched.retries() == 0u);
    BOOST_TEST(sched.aborted());
}

BOOST_AUTO_TEST_CASE(the_same_transport_failure_n_times_in_a_row_stops_the_batch) {
    retry_config config = config_with(5);
    config.fail_fast = 4;
    invent_dispatch::scheduler sched(std::nullopt, config, 1);
    for (int i = 0; i < 3; ++i)
        BOOST_TEST(verdict(sched.on_attempt(failure(dispatch_errc::connect_failed), 1, t0, 0)) == "retry");
    const auto d = sched.on_attempt(failure(dispatch_errc::connect_failed), 1, t0, 0);
    BOOST_TEST(verdict(d) == "abort_batch failed");
    BOOST_TEST((d.why == abort_reason::fail_fast));
    BOOST_TEST(sched.aborted());
}

BOOST_AUTO_TEST_CASE(an_answer_or_another_failure_in_between_resets_fail_fast) {
    retry_config config = config_with(5);
    config.fail_fast = 3;
    invent_dispatch::scheduler sched(std::nullopt, config, 1);
    sched.on_attempt(failure(dispatch_errc::connect_failed), 1, t0, 0);
    sched.on_attempt(failure(dispatch_errc::connect_failed), 1, t0, 0);
    sched.on_attempt(http(500), 1, t0, 0);   // the server answered: not the same run
    sched.on_attempt(failure(dispatch_errc::connect_failed), 1, t0, 0);
    sched.on_attempt(failure(dispatch_errc::connect_timeout), 1, t0, 0);   // another failure
    sched.on_attempt(failure(dispatch_errc::connect_failed), 1, t0, 0);
    BOOST_TEST(!sched.aborted());
    config.fail_fast = 0;   // 0: never
    invent_dispatch::scheduler never(std::nullopt, config, 1);
    for (int i = 0; i < 100; ++i) never.on_attempt(failure(dispatch_errc::resolve_failed), 1, t0, 0);
    BOOST_TEST(!never.aborted());
}

// --- auth abort -----------------------------------------------------------

BOOST_AUTO_TEST_CASE(three_auth_refusals_in_a_row_abort_the_batch) {
    invent_dispatch::scheduler sched(std::nullopt, {}, 1);
    BOOST_TEST(verdict(sched.on_attempt(http(401), 1, t0, 0)) == "finish failed");
    BOOST_TEST(verdict(sched.on_attempt(http(403), 1, t0, 0)) == "finish failed");
    BOOST_TEST(!sched.aborted());
    BOOST_TEST(verdict(sched.on_attempt(http(401), 1, t0, 0)) == "abort_batch failed");
    BOOST_TEST(sched.aborted());
}

BOOST_AUTO_TEST_CASE(a_proxy_refusing_its_credentials_counts_like_a_refused_token) {
    invent_dispatch::scheduler sched(std::nullopt, {}, 1);
    BOOST_TEST(verdict(sched.on_attempt(failure(dispatch_errc::proxy_auth_required), 1, t0, 0)) == "finish failed");
    BOOST_TEST(verdict(sched.on_attempt(http(401), 1, t0, 0)) == "finish failed");   // the same run
    const auto d = sched.on_attempt(failure(dispatch_errc::proxy_auth_required), 1, t0, 0);
    BOOST_TEST(verdict(d) == "abort_batch failed");
    BOOST_TEST((d.why == abort_reason::auth));
}

BOOST_AUTO_TEST_CASE(a_proxy_refusing_the_tunnel_is_retried_and_counts_toward_fail_fast) {
    retry_config config = config_with(5);
    config.fail_fast = 3;
    invent_dispatch::scheduler sched(std::nullopt, config, 1);
    BOOST_TEST(verdict(sched.on_attempt(failure(dispatch_errc::proxy_refused), 1, t0, 0)) == "retry");
    BOOST_TEST(verdict(sched.on_attempt(failure(dispatch_errc::proxy_refused), 2, t0, 0)) == "retry");
    const auto d = sched.on_attempt(failure(dispatch_errc::proxy_refused), 3, t0, 0);
    BOOST_TEST(verdict(d) == "abort_batch failed");
    BOOST_TEST((d.why == abort_reason::fail_fast));
}

BOOST_AUTO_TEST_CASE(an_answer_in_between_resets_the_run) {
    invent_dispatch::scheduler sched(std::nullopt, {}, 1);
    sched.on_attempt(http(401), 1, t0, 0);
    sched.on_attempt(http(401), 1, t0, 0);
    sched.on_attempt(http(200), 1, t0, 0);
    sched.on_attempt(http(401), 1, t0, 0);
    sched.on_attempt(http(403), 1, t0, 0);
    sched.on_attempt(http(404), 1, t0, 0);   // any other answer counts, not only a success
    sched.on_attempt(http(401), 1, t0, 0);
    BOOST_TEST(verdict(sched.on_attempt(http(401), 1, t0, 0)) == "finish failed");
    BOOST_TEST(!sched.aborted());
    BOOST_TEST(verdict(sched.on_attempt(http(403), 1, t0, 0)) == "abort_batch failed");
}

BOOST_AUTO_TEST_CASE(no_answer_in_between_does_not_reset_the_run) {
    invent_dispatch::scheduler sched(std::nullopt, {}, 1);
    sched.on_attempt(http(401), 1, t0, 0);
    sched.on_attempt(failure(dispatch_errc::connect_failed), 1, t0, 0);
    sched.on_attempt(http(401), 1, t0, 0);
    BOOST_TEST(verdict(sched.on_attempt(http(401), 1, t0, 0)) == "abort_batch failed");
}

BOOST_AUTO_TEST_CASE(rejected_certificates_count_toward_the_abort) {
    invent_dispatch::scheduler sched(std::nullopt, {}, 1);
    sched.on_attempt(failure(dispatch_errc::tls_verify_failed), 1, t0, 0);
    sched.on_attempt(failure(dispatch_errc::tls_verify_failed), 1, t0, 0);
    BOOST_TEST(verdict(sched.on_attempt(failure(dispatch_errc::tls_verify_failed), 1, t0, 0)) == "abort_batch failed");
    BOOST_TEST(sched.aborted());
}

BOOST_AUTO_TEST_CASE(nothing_is_retried_once_aborted) {
    retry_config config;
    config.retry_ambiguous = true;
    invent_dispatch::scheduler sched(std::nullopt, config, 1);
    for (int i = 0; i < 3; ++i) sched.on_attempt(http(403), 1, t0, 0);
    BOOST_TEST_REQUIRE(sched.aborted());
    BOOST_TEST(verdict(sched.on_attempt(http(503), 1, t0, 0)) == "finish failed");
    BOOST_TEST(verdict(sched.on_attempt(failure(dispatch_errc::stale_connection), 1, t0, 0)) == "finish failed");
    BOOST_TEST(verdict(sched.on_attempt(failure(dispatch_errc::response_timeout), 1, t0, 0)) == "finish unknown");
    BOOST_TEST(sched.retries() == 0u);
}

// --- backoff --------------------------------------------------------------

BOOST_AUTO_TEST_CASE(backoff_is_full_jitter_within_the_growing_ceiling) {
    const retry_config config = config_with(1000);   // 250 ms base, 30 s cap
    invent_dispatch::scheduler sched(std::nullopt, config, 7);
    constexpr int samples = 2000;
    double previous_mean = 0;
    for (unsigned attempt = 1; attempt <= 12; ++attempt) {
        BOOST_TEST_CONTEXT("attempt " << attempt) {
            const duration ceiling = std::min(config.backoff_cap, config.backoff_base * (1 << (attempt - 1)));
            double sum = 0;
            std::int64_t longest = 0;
            for (int i = 0; i < samples; ++i) {
                const auto wait = after_t0(sched.on_attempt(http(500), attempt, t0, 0).not_before);
                BOOST_TEST_REQUIRE(wait >= 0);
                BOOST_TEST_REQUIRE(wait <= ns(ceiling));
                sum += static_cast<double>(wait);
                longest = std::max(longest, wait);
            }
            const double mean = sum / samples;
            // Uniform over [0, ceiling]: the mean sits at half of it and the
            // draws reach close to the top (both far beyond chance here).
            BOOST_TEST(mean == static_cast<double>(ns(ceiling)) / 2, boost::test_tools::tolerance(0.1));
            BOOST_TEST(static_cast<double>(longest) >= 0.95 * static_cast<double>(ns(ceiling)));
            if (ceiling < config.backoff_cap) BOOST_TEST(mean > previous_mean);
            previous_mean = mean;
        }
    }
}

BOOST_AUTO_TEST_CASE(backoff_for_a_huge_attempt_number_stays_at_the_cap) {
    invent_dispatch::scheduler sched(std::nullopt, config_with(1000), 7);
    for (int i = 0; i < 100; ++i) {
        const auto wait = after_t0(sched.on_attempt(http(502), 999, t0, 0).not_before);
        BOOST_TEST_REQUIRE(wait >= 0);
        BOOST_TEST_REQUIRE(wait <= ns(30s));
    }
}

BOOST_AUTO_TEST_CASE(backoff_is_reproducible_with_the_same_seed) {
    invent_dispatch::scheduler a(std::nullopt, config_with(10), 99);
    invent_dispatch::scheduler b(std::nullopt, config_with(10), 99);
    invent_dispatch::scheduler c(std::nullopt, config_with(10), 100);
    bool differs = false;
    for (unsigned attempt = 1; attempt < 10; ++attempt) {
        const auto from_a = after_t0(a.on_attempt(http(500), attempt, t0, 0).not_before);
        BOOST_TEST(from_a == after_t0(b.on_attempt(http(500), attempt, t0, 0).not_before));
        differs = differs || from_a != after_t0(c.on_attempt(http(500), attempt, t0, 0).not_before);
    }
    BOOST_TEST(differs);
}

BOOST_AUTO_TEST_SUITE_END()
