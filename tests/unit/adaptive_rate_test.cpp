#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <vector>

#include "invent_dispatch/adaptive_rate.hpp"
#include "invent_dispatch/failure_classifier.hpp"
#include "invent_dispatch/scheduler.hpp"

using namespace invent_dispatch;
using namespace std::chrono_literals;

namespace {

// The fake clock: plain time points the tests advance by hand.
const time_point t0 = time_point{} + 1h;
constexpr double tol = 1e-9;

using controller = invent_dispatch::adaptive_rate;

// An advertised quota per second as the rate it sets.
double less_margin(double per_second) {
    return per_second * (1 - controller::header_margin);
}
using change = controller::change;

advertised_limit draft_policy(double limit, double window) {
    advertised_limit a;
    a.limit = limit;
    a.window = window;
    return a;
}

// Sends one request and answers it `status` at `now`.
change round_trip(controller& c, int status, time_point now,
                  const std::optional<advertised_limit>& advertised = std::nullopt) {
    return c.on_answer(c.on_send(), status, advertised, now);
}

// Clean answers every 10 ms for `span`, each to a request sent just before.
time_point clean_for(controller& c, time_point from, duration span, double* highest = nullptr) {
    time_point now = from;
    for (; now < from + span; now += 10ms) {
        round_trip(c, 200, now);
        if (highest && c.current() > *highest) *highest = c.current();
    }
    return now;
}

}   // namespace

BOOST_AUTO_TEST_SUITE(adaptive_rate)

BOOST_AUTO_TEST_CASE(starts_at_max) {
    controller c(1000);
    BOOST_TEST(c.current() == 1000);
    BOOST_TEST(c.ceiling() == 1000);
}

BOOST_AUTO_TEST_CASE(a_429_cuts_once_per_round_trip) {
    controller c(1000);
    // Ten requests leave at 1000/s; every answer is a 429.
    std::vector<std::uint64_t> sent;
    for (int i = 0; i < 10; ++i) sent.push_back(c.on_send());
    BOOST_TEST((c.on_answer(sent[0], 429, std::nullopt, t0) == change::cut));
    BOOST_TEST(c.current() == 900, boost::test_tools::tolerance(tol));
    // The other nine were sent before the cut: they repeat it and cut nothing.
    for (std::size_t i = 1; i < sent.size(); ++i)
        BOOST_TEST((c.on_answer(sent[i], 429, std::nullopt, t0 + 1ms) == change::none));
    BOOST_TEST(c.current() == 900, boost::test_tools::tolerance(tol));
    // A request sent after the cut that still meets a 429 cuts again.
    BOOST_TEST((round_trip(c, 429, t0 + 2ms) == change::cut));
    BOOST_TEST(c.current() == 810, boost::test_tools::tolerance(tol));
    // 503 is the same signal.
    BOOST_TEST((round_trip(c, 503, t0 + 3ms) == change::cut));
    BOOST_TEST(c.current() == 729, boost::test_tools::tolerance(tol));
}

BOOST_AUTO_TEST_CASE(other_failures_do_not_cut) {
    controller c(100);
    for (const int status : {500, 502, 504, 408, 400, 401, 404, 200}) round_trip(c, status, t0);
    BOOST_TEST(c.current() == 100);
}

BOOST_AUTO_TEST_CASE(a_cut_stops_at_what_the_server_accepted_over_the_last_second) {
    // A server counting in windows refuses everything until its window
    // drains: the refusals that follow a cut must not drive the rate down
    // round trip after round trip.
    controller c(1000);
    for (int i = 0; i < 300; ++i) round_trip(c, 200, t0 + i * 3ms);   // 300 accepted in 0.9 s
    for (int i = 0; i < 50; ++i) round_trip(c, 429, t0 + 950ms + i * 1ms);   // then only 429s
    // 0.95 of the 300 accepted over the last 0.999 s.
    BOOST_TEST(c.current() == 300 / 0.999 * 0.95, boost::test_tools::tolerance(1e-9));
    // Once the accepted second is over, refusals cut further.
    round_trip(c, 429, t0 + 3s);
    BOOST_TEST(c.current() == 300 / 0.999 * 0.95 * 0.9, boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(never_below_one_request_a_second) {
    controller c(50);
    for (int i = 0; i < 200; ++i) round_trip(c, 429, t0 + i * 2s);
    BOOST_TEST(c.current() == 1);
    controller slow(0.2);   // a MAX below the floor is its own floor
    round_trip(slow, 429, t0);
    BOOST_TEST(slow.current() == 0.2);
}

BOOST_AUTO_TEST_CASE(clean_answers_raise_the_rate_back_and_never_above_max) {
    controller c(100);
    round_trip(c, 429, t0);
    BOOST_TEST(c.current() == 90, boost::test_tools::tolerance(tol));
    // Within one raise interval of the cut: no raise.
    BOOST_TEST((round_trip(c, 200, t0 + 50ms) == change::none));
    BOOST_TEST(c.current() == 90, boost::test_tools::tolerance(tol));
    // After it: a quarter of the way back to the rate of the cut, at least a probe step.
    BOOST_TEST((round_trip(c, 200, t0 + 100ms) == change::raise));
    BOOST_TEST(c.current() == 92.5, boost::test_tools::tolerance(tol));
    // One raise per interval, however many answers.
    round_trip(c, 200, t0 + 150ms);
    BOOST_TEST(c.current() == 92.5, boost::test_tools::tolerance(tol));
    double highest = 0;
    clean_for(c, t0 + 200ms, 60s, &highest);
    BOOST_TEST(c.current() == 100);
    BOOST_TEST(highest == 100);
}

BOOST_AUTO_TEST_CASE(past_the_last_cut_the_rate_climbs_in_equal_steps) {
    controller c(1000);
    round_trip(c, 429, t0);   // 1000 -> 900, the last cut's rate is 1000
    round_trip(c, 429, t0 + 1ms);   // 900 -> 810, the last cut's rate is 900
    time_point now = clean_for(c, t0 + 100ms, 2s);   // back to 900 and past it
    const double a = c.current();
    BOOST_TEST(a > 900);
    BOOST_TEST(a < 990);
    round_trip(c, 200, now + 100ms);
    const double b = c.current();
    round_trip(c, 200, now + 200ms);
    BOOST_TEST(b - a == 0.005 * 900, boost::test_tools::tolerance(1e-6));
    BOOST_TEST(c.current() - b == 0.005 * 900, boost::test_tools::tolerance(1e-6));
}

BOOST_AUTO_TEST_CASE(an_answer_to_a_request_sent_before_the_cut_does_not_raise) {
    controller c(100);
    const auto early = c.on_send();
    round_trip(c, 429, t0);
    BOOST_TEST((c.on_answer(early, 200, std::nullopt, t0 + 1s) == change::none));
    BOOST_TEST(c.current() == 90, boost::test_tools::tolerance(tol));
}

BOOST_AUTO_TEST_CASE(headers_set_the_rate_at_once_less_the_margin) {
    controller c(1000);
    BOOST_TEST((round_trip(c, 200, t0, draft_policy(300, 1)) == change::advertised));
    BOOST_TEST(c.current() == less_margin(300), boost::test_tools::tolerance(tol));
    BOOST_TEST(c.ceiling() == less_margin(300), boost::test_tools::tolerance(tol));
    BOOST_TEST(*c.advertised_rate() == 300, boost::test_tools::tolerance(tol));
    // The same headers again change nothing; no probing past them.
    double highest = 0;
    time_point now = t0 + 10ms;
    for (int i = 0; i < 1000; ++i, now += 10ms) {
        round_trip(c, 200, now, draft_policy(300, 1));
        highest = std::max(highest, c.current());
    }
    BOOST_TEST(highest == less_margin(300), boost::test_tools::tolerance(tol));
}

BOOST_AUTO_TEST_CASE(headers_take_precedence_over_probing) {
    // Probing had cut to 810; the server then says it allows 50 a second.
    controller c(1000);
    round_trip(c, 429, t0);
    round_trip(c, 429, t0 + 1ms);
    const auto before_headers = c.on_send();   // in flight when the headers come
    BOOST_TEST((round_trip(c, 200, t0 + 2ms, draft_policy(3000, 60)) == change::advertised));
    BOOST_TEST(c.current() == less_margin(50), boost::test_tools::tolerance(tol));
    // A 429 to a request sent before the headers set the rate cuts nothing.
    BOOST_TEST((c.on_answer(before_headers, 429, std::nullopt, t0 + 3ms) == change::none));
    // A later one still cuts (the quota may be shared), and the rate climbs
    // back to the advertised ceiling, not past it.
    BOOST_TEST((round_trip(c, 429, t0 + 4ms, draft_policy(3000, 60)) == change::cut));
    BOOST_TEST(c.current() < less_margin(50));
    double highest = 0;
    clean_for(c, t0 + 200ms, 60s, &highest);
    BOOST_TEST(c.current() == less_margin(50), boost::test_tools::tolerance(tol));
    BOOST_TEST(highest == less_margin(50), boost::test_tools::tolerance(tol));
    // The limit drops: the rate follows at once.
    round_trip(c, 200, t0 + 61s, draft_policy(1500, 60));
    BOOST_TEST(c.current() == less_margin(25), boost::test_tools::tolerance(tol));
}

BOOST_AUTO_TEST_CASE(advertised_limits_above_max_keep_max) {
    controller c(50);
    round_trip(c, 200, t0, draft_policy(10'000, 1));
    BOOST_TEST(c.current() == 50);
}

BOOST_AUTO_TEST_CASE(x_headers_take_the_window_from_the_longest_reset) {
    controller c(1000);
    advertised_limit x;
    x.from = advertised_limit::style::x;
    x.limit = 600;
    x.reset = 0;   // a reset this short says the window is at least a second
    round_trip(c, 200, t0, x);
    BOOST_TEST(c.current() == less_margin(600), boost::test_tools::tolerance(tol));
    x.reset = 60;
    round_trip(c, 200, t0 + 1ms, x);
    BOOST_TEST(c.current() == less_margin(10), boost::test_tools::tolerance(tol));
    x.reset = 30;   // later in the same window: the window is still 60 s
    BOOST_TEST((round_trip(c, 200, t0 + 2ms, x) == change::none));
    BOOST_TEST(c.current() == less_margin(10), boost::test_tools::tolerance(tol));
    // A limit with neither window nor reset says no rate: probing goes on.
    advertised_limit bare;
    bare.limit = 5;
    BOOST_TEST((round_trip(c, 200, t0 + 3ms, bare) == change::none));
    BOOST_TEST(c.current() == less_margin(10), boost::test_tools::tolerance(tol));
}

// --- in the scheduler: the bucket keeps the rate in force ------------------

BOOST_AUTO_TEST_CASE(the_scheduler_bucket_follows_the_rate) {
    invent_dispatch::scheduler sched(rate_limit{100, 1, true}, {}, 1);
    BOOST_REQUIRE(sched.adaptive());
    BOOST_TEST(std::chrono::nanoseconds(sched.reserve_send(t0) - t0).count() == 0);
    BOOST_TEST(std::chrono::nanoseconds(sched.reserve_send(t0) - t0).count() == 10'000'000);   // 100/s
    // The 429 as the failure classifier judges it: retried, and the rate cut.
    attempt_report refused{classify_attempt(attempt_stage::answered, {}, 429), 429, std::nullopt, sched.on_send(t0),
                           std::nullopt};
    BOOST_TEST((sched.on_attempt(refused, 1, t0, 0).what == retry_decision::action::retry));
    BOOST_TEST(sched.adaptive()->current() == 90, boost::test_tools::tolerance(tol));
    // 90/s from here: the two grants owed (20 ms ahead) become 2/90 s ahead,
    // rounded up to the nanosecond.
    const auto next = sched.reserve_send(t0);
    BOOST_TEST(std::chrono::nanoseconds(next - t0).count() == 22'222'223);
    BOOST_TEST(std::chrono::nanoseconds(sched.reserve_send(t0) - next).count() == 11'111'111);
}

BOOST_AUTO_TEST_CASE(a_fixed_rate_has_no_controller) {
    invent_dispatch::scheduler sched(rate_limit{100, 1}, {}, 1);
    BOOST_TEST(!sched.adaptive());
    BOOST_TEST(sched.on_send(t0) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
