// One row's attempts, sans-io: the steps the dispatcher's coroutine is told
// to take, played here with plain answers and a fake clock (no sockets).
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "invent_dispatch/errors.hpp"
#include "invent_dispatch/row_attempts.hpp"

using namespace invent_dispatch;
using namespace std::chrono_literals;
using step = invent_dispatch::row_attempts::step;

namespace {

const time_point t0 = time_point{} + 1h;

// One attempt's answer as the coroutine would get it: from the send, or
// from an open that failed (no request left).
struct scripted_answer {
    attempt_report attempt;
    bool from_open = false;
};

scripted_answer http(int status, std::optional<duration> retry_after = std::nullopt) {
    return {{classify_attempt(attempt_stage::answered, {}, status), status, retry_after}};
}
scripted_answer failed(attempt_stage stage, dispatch_errc e) {
    return {{classify_attempt(stage, e, 0), 0, std::nullopt}};
}
scripted_answer open_failed(dispatch_errc e) {
    return {{classify_attempt(attempt_stage::connect, e, 0), 0, std::nullopt}, true};
}
const scripted_answer stale = failed(attempt_stage::connect, dispatch_errc::stale_connection);
const scripted_answer lost_after_sending = failed(attempt_stage::read, dispatch_errc::connection_lost);

std::string word(step s) {
    switch (s) {
    case step::connect: return "connect";
    case step::wait: return "wait";
    case step::write_ahead: return "write_ahead";
    case step::send: return "send";
    case step::judge: return "judge";
    case step::retry: return "retry";
    case step::finish: return "finish";
    case step::abort_batch: return "abort_batch";
    case step::withdrawn: return "withdrawn";
    case step::stopped: return "stopped";
    case step::abandon: return "abandon";
    }
    return "?";
}

// A row played as the dispatcher's coroutine plays it: connections open
// (unless the answer says the open failed), every sleep ends at its time (the
// fake clock jumps there), the journal keeps every record, and each attempt
// gets the next answer. Stops at the row's end or when the answers run out
// (at the next judge). The steps taken, as words.
struct played_row {
    std::vector<std::string> steps;
    step last = step::connect;
    time_point now = t0;

    played_row(invent_dispatch::row_attempts& row, const std::vector<scripted_answer>& answers) {
        std::size_t next_answer = 0;
        const scripted_answer* answer = nullptr;
        for (step s = invent_dispatch::row_attempts::first();;) {
            steps.push_back(word(s));
            last = s;
            switch (s) {
            case step::connect:
                if (next_answer < answers.size() && answers[next_answer].from_open) {
                    answer = &answers[next_answer++];
                    s = row.opened(true, false, now);
                } else {
                    s = row.opened(false, false, now);
                }
                continue;
            case step::retry:
            case step::wait:
                now = std::max(now, row.wake_at());
                s = row.waited(true, now);
                continue;
            case step::write_ahead: s = row.written_ahead(true, now); continue;
            case step::send:
                if (next_answer == answers.size()) return;
                answer = &answers[next_answer++];
                s = row.sent(false);
                continue;
            case step::judge: {
                auto attempt = answer->attempt;
                attempt.send_sequence = row.send_sequence();
                s = row.judged(attempt, now);
                continue;
            }
            default: return;
            }
        }
    }
    std::size_t count(const std::string& w) const {
        return static_cast<std::size_t>(std::count(steps.begin(), steps.end(), w));
    }
};

retry_config config_with(unsigned max_attempts, bool retry_ambiguous = false) {
    retry_config c;
    c.max_attempts = max_attempts;
    c.retry_ambiguous = retry_ambiguous;
    c.backoff_base = 1ms;
    c.backoff_cap = 1ms;
    return c;
}

}   // namespace

BOOST_AUTO_TEST_SUITE(row_attempts)

BOOST_AUTO_TEST_CASE(the_sending_record_is_written_once_before_the_first_send) {
    invent_dispatch::scheduler rules(std::nullopt, config_with(5), 1);
    invent_dispatch::row_attempts row(rules);
    // A failed open sends nothing, so it needs no record; then a 500 and a
    // stale connection before the success.
    const played_row played(row, {open_failed(dispatch_errc::connect_failed), http(500), stale, http(201)});
    const std::vector<std::string> expected{"connect", "judge", "retry",   // the open failed: nothing was sent
                                            "connect", "wait",  "write_ahead", "send",  "judge", "retry",   // 500
                                            "connect", "wait",  "send",        "judge", "retry",   // stale
                                            "connect", "wait",  "send",        "judge", "finish"};   // 201
    BOOST_TEST(played.steps == expected, boost::test_tools::per_element());
    BOOST_TEST(played.count("write_ahead") == 1u);
    BOOST_TEST(row.sending_recorded());
    BOOST_TEST(row.attempts() == 3u);   // the stale retry gave its attempt back
    BOOST_TEST((row.final_outcome() == outcome::created));
}

BOOST_AUTO_TEST_CASE(a_stale_retry_does_not_use_up_an_attempt) {
    invent_dispatch::scheduler rules(std::nullopt, config_with(2), 1);
    invent_dispatch::row_attempts row(rules);
    const played_row played(row, {stale, http(500), stale, http(500)});
    BOOST_TEST(played.count("send") == 4u);
    BOOST_TEST(word(played.last) == "finish");
    BOOST_TEST(row.attempts() == 2u);
    BOOST_TEST(row.stale_retries() == 2u);
    BOOST_TEST((row.final_outcome() == outcome::failed));
}

BOOST_AUTO_TEST_CASE(max_attempts_end_the_row_with_the_last_attempts_outcome) {
    {
        invent_dispatch::scheduler rules(std::nullopt, config_with(3), 1);
        invent_dispatch::row_attempts row(rules);
        const played_row played(row, {http(503), http(500), http(502), http(201)});
        BOOST_TEST(word(played.last) == "finish");
        BOOST_TEST(played.count("send") == 3u);
        BOOST_TEST(row.attempts() == 3u);
        BOOST_TEST((row.final_outcome() == outcome::failed));
    }
    {
        // Connections that cannot be made count as attempts, and nothing is written ahead.
        invent_dispatch::scheduler rules(std::nullopt, config_with(3), 1);
        invent_dispatch::row_attempts row(rules);
        const auto refused = open_failed(dispatch_errc::connect_failed);
        const played_row played(row, {refused, refused, refused, refused});
        BOOST_TEST(word(played.last) == "finish");
        BOOST_TEST(row.attempts() == 3u);
        BOOST_TEST(played.count("send") == 0u);
        BOOST_TEST(!row.sending_recorded());
        BOOST_TEST((row.final_outcome() == outcome::failed));
    }
    {
        invent_dispatch::scheduler rules(std::nullopt, config_with(3, true), 1);
        invent_dispatch::row_attempts row(rules);
        const played_row played(row, {lost_after_sending, lost_after_sending, lost_after_sending, http(201)});
        BOOST_TEST(word(played.last) == "finish");
        BOOST_TEST(row.attempts() == 3u);
        BOOST_TEST((row.final_outcome() == outcome::unknown));
    }
}

BOOST_AUTO_TEST_CASE(an_ambiguous_answer_finishes_unknown_unless_retry_ambiguous) {
    {
        invent_dispatch::scheduler rules(std::nullopt, config_with(5), 1);
        invent_dispatch::row_attempts row(rules);
        const played_row played(row, {lost_after_sending, http(201)});
        BOOST_TEST(word(played.last) == "finish");
        BOOST_TEST(played.count("send") == 1u);
        BOOST_TEST((row.final_outcome() == outcome::unknown));
    }
    {
        invent_dispatch::scheduler rules(std::nullopt, config_with(5, true), 1);
        invent_dispatch::row_attempts row(rules);
        const played_row played(row, {lost_after_sending, http(201)});
        BOOST_TEST(played.count("send") == 2u);
        BOOST_TEST(row.attempts() == 2u);
        BOOST_TEST((row.final_outcome() == outcome::created));
    }
}

BOOST_AUTO_TEST_CASE(after_an_attempt_that_may_have_created_the_chat_no_failure_says_it_did_not) {
    // With --retry-ambiguous, the request whose answer was lost may have
    // created the chat. A refusal of the retry (or retries running out, or a
    // stop) cannot say it did not: failed would have the next run send it again.
    {
        invent_dispatch::scheduler rules(std::nullopt, config_with(5, true), 1);
        invent_dispatch::row_attempts row(rules);
        const played_row played(row, {lost_after_sending, http(422)});
        BOOST_TEST(word(played.last) == "finish");
        BOOST_TEST((row.final_outcome() == outcome::unknown));
        BOOST_TEST(row.earlier_attempt_may_have_created());
    }
    {
        invent_dispatch::scheduler rules(std::nullopt, config_with(3, true), 1);
        invent_dispatch::row_attempts row(rules);
        const played_row played(row, {lost_after_sending, http(500), http(500)});
        BOOST_TEST(word(played.last) == "finish");
        BOOST_TEST((row.final_outcome() == outcome::unknown));
    }
    {
        invent_dispatch::scheduler rules(std::nullopt, config_with(5, true), 1);
        invent_dispatch::row_attempts row(rules);
        played_row played(row, {lost_after_sending, http(500)});   // waits to send a third time
        BOOST_TEST(word(played.last) == "send");
        BOOST_TEST((row.outcome_if_stopped() == outcome::unknown));
    }
    {   // Without such an attempt a refusal is a failure.
        invent_dispatch::scheduler rules(std::nullopt, config_with(5, true), 1);
        invent_dispatch::row_attempts row(rules);
        const played_row played(row, {http(500), http(422)});
        BOOST_TEST((row.final_outcome() == outcome::failed));
        BOOST_TEST(!row.earlier_attempt_may_have_created());
    }
}

BOOST_AUTO_TEST_CASE(a_stop_while_the_sends_connection_is_made_withdraws_the_attempt) {
    invent_dispatch::scheduler rules(std::nullopt, config_with(5), 1);
    invent_dispatch::row_attempts row(rules);
    played_row played(row, {http(500)});   // ends at the second send, with no answer for it
    BOOST_TEST(word(played.last) == "send");
    BOOST_TEST(row.attempts() == 2u);
    BOOST_TEST(word(row.sent(true)) == "withdrawn");
    BOOST_TEST(row.attempts() == 1u);
    // The final record: the first attempt's outcome and words.
    row.keep_failure("HTTP 500", 500, 3ms);
    BOOST_TEST((row.outcome_if_stopped() == outcome::failed));
    BOOST_TEST_REQUIRE(row.last_failure());
    BOOST_TEST(row.last_failure()->status == 500);
}

BOOST_AUTO_TEST_CASE(a_first_attempt_withdrawn_leaves_the_sending_record_to_close) {
    invent_dispatch::scheduler rules(std::nullopt, config_with(5), 1);
    invent_dispatch::row_attempts row(rules);
    played_row played(row, {});
    BOOST_TEST(word(played.last) == "send");
    BOOST_TEST(word(row.sent(true)) == "withdrawn");
    BOOST_TEST(row.attempts() == 0u);
    BOOST_TEST(!row.last_failure());
    // The `sending` record is in the journal: the row needs its final one.
    BOOST_TEST((row.outcome_if_stopped() == outcome::failed));
}

BOOST_AUTO_TEST_CASE(a_stop_before_anything_was_written_needs_no_record) {
    invent_dispatch::scheduler rules(std::nullopt, config_with(5), 1);
    {
        invent_dispatch::row_attempts row(rules);
        BOOST_TEST(word(row.opened(true, true, t0)) == "stopped");   // the stop closed the connection being made
        BOOST_TEST(!row.outcome_if_stopped());
    }
    {
        invent_dispatch::row_attempts row(rules);
        BOOST_TEST(word(row.opened(false, false, t0)) == "wait");
        BOOST_TEST(word(row.waited(false, t0)) == "stopped");   // stopped while waiting for the grant
        BOOST_TEST(row.attempts() == 0u);
        BOOST_TEST(!row.outcome_if_stopped());
    }
}

BOOST_AUTO_TEST_CASE(a_stop_between_attempts_keeps_the_schedulers_outcome) {
    {
        // --retry-ambiguous: the first attempt may have created a chat.
        invent_dispatch::scheduler rules(std::nullopt, config_with(5, true), 1);
        invent_dispatch::row_attempts row(rules);
        BOOST_TEST(word(row.opened(false, false, t0)) == "wait");
        BOOST_TEST(word(row.waited(true, t0)) == "write_ahead");
        BOOST_TEST(word(row.written_ahead(true, t0)) == "send");
        BOOST_TEST(word(row.sent(false)) == "judge");
        BOOST_TEST(word(row.judged(lost_after_sending.attempt, t0)) == "retry");
        BOOST_TEST(word(row.waited(false, t0)) == "stopped");
        BOOST_TEST((row.outcome_if_stopped() == outcome::unknown));
        BOOST_TEST(row.attempts() == 1u);
    }
    {
        invent_dispatch::scheduler rules(std::nullopt, config_with(5, true), 1);
        invent_dispatch::row_attempts row(rules);
        row.opened(false, false, t0);
        row.waited(true, t0);
        row.written_ahead(true, t0);
        row.sent(false);
        BOOST_TEST(word(row.judged(http(502).attempt, t0)) == "retry");
        BOOST_TEST(word(row.waited(false, t0)) == "stopped");
        BOOST_TEST((row.outcome_if_stopped() == outcome::failed));
    }
}

BOOST_AUTO_TEST_CASE(a_failed_write_ahead_abandons_the_row) {
    invent_dispatch::scheduler rules(std::nullopt, config_with(5), 1);
    invent_dispatch::row_attempts row(rules);
    row.opened(false, false, t0);
    BOOST_TEST(word(row.waited(true, t0)) == "write_ahead");
    BOOST_TEST(word(row.written_ahead(false, t0)) == "abandon");
    BOOST_TEST(row.attempts() == 0u);
}

BOOST_AUTO_TEST_CASE(a_grant_taken_before_a_pause_is_taken_again_after_it) {
    invent_dispatch::scheduler rules(std::nullopt, config_with(5), 1);
    invent_dispatch::row_attempts waiting(rules);
    BOOST_TEST(word(waiting.opened(false, false, t0)) == "wait");
    // Another row's 429 pauses every request for 10 s while this one waits.
    invent_dispatch::row_attempts refused(rules);
    const played_row refusal(refused, {http(429, 10s)});
    BOOST_TEST(word(waiting.waited(true, t0)) == "wait");
    BOOST_TEST((waiting.wake_at() >= t0 + 10s));
    BOOST_TEST(word(waiting.waited(true, waiting.wake_at())) == "write_ahead");
}

// A row granted its send, written ahead, and held by a window that other
// rows' sends filled (--rate 1: at most 2 sends in any second). Its grant.
time_point hold_on_a_full_window(invent_dispatch::scheduler& rules, invent_dispatch::row_attempts& row) {
    BOOST_TEST(word(row.opened(false, false, t0)) == "wait");
    const auto grant = row.wake_at();
    rules.on_send(grant);
    rules.on_send(grant);
    BOOST_TEST(word(row.waited(true, grant)) == "write_ahead");
    BOOST_TEST(word(row.written_ahead(true, grant)) == "wait");
    BOOST_TEST(row.attempts() == 0u);
    return grant;
}

BOOST_AUTO_TEST_CASE(a_full_send_window_holds_the_send_after_the_write_ahead) {
    invent_dispatch::scheduler rules(rate_limit{1, 1}, config_with(5), 1);
    invent_dispatch::row_attempts row(rules);
    const auto grant = hold_on_a_full_window(rules, row);
    BOOST_TEST((row.wake_at() == grant + 1s));
    BOOST_TEST(word(row.waited(true, grant + 1s)) == "wait");   // a new grant
    BOOST_TEST(word(row.waited(true, row.wake_at())) == "send");
    BOOST_TEST(row.attempts() == 1u);
}

BOOST_AUTO_TEST_CASE(sends_held_by_a_bunch_in_the_window_leave_spaced_by_the_rate) {
    // --rate 10: at most 11 sends in any second. A stall bunched 11 sends at
    // t0; two rows held by them must not leave together when they expire, or
    // the bunch would come back every second.
    invent_dispatch::scheduler rules(rate_limit{10, 1}, config_with(5), 1);
    invent_dispatch::row_attempts first(rules), second(rules);
    BOOST_TEST(word(first.opened(false, false, t0)) == "wait");
    BOOST_TEST(word(second.opened(false, false, t0)) == "wait");
    for (int i = 0; i < 11; ++i) rules.on_send(t0);
    for (auto* row : {&first, &second}) {
        BOOST_TEST(word(row->waited(true, row->wake_at())) == "write_ahead");
        BOOST_TEST(word(row->written_ahead(true, row->wake_at())) == "wait");
        BOOST_TEST((row->wake_at() == t0 + 1s));
    }
    BOOST_TEST(word(first.waited(true, t0 + 1s)) == "wait");
    BOOST_TEST(word(second.waited(true, t0 + 1s)) == "wait");
    BOOST_TEST(word(first.waited(true, first.wake_at())) == "send");
    BOOST_TEST((second.wake_at() >= first.wake_at() + 100ms));
    BOOST_TEST(word(second.waited(true, second.wake_at())) == "send");
}

BOOST_AUTO_TEST_CASE(a_pause_that_begins_while_the_window_is_full_holds_the_send) {
    invent_dispatch::scheduler rules(rate_limit{1, 1}, config_with(5), 1);
    invent_dispatch::row_attempts row(rules);
    const auto grant = hold_on_a_full_window(rules, row);
    // Another row's 429 pauses every request for 10 s while this one waits.
    rules.on_attempt(http(429, 10s).attempt, 1, grant + 500ms, 0);
    BOOST_TEST(word(row.waited(true, grant + 1s)) == "wait");   // a new grant, not a send
    BOOST_TEST(row.attempts() == 0u);
    BOOST_TEST((row.wake_at() >= grant + 10500ms));
    BOOST_TEST(word(row.waited(true, row.wake_at())) == "send");
}

BOOST_AUTO_TEST_SUITE_END()
