#include "invent_dispatch/scheduler.hpp"

#include <algorithm>
#include <cmath>

namespace invent_dispatch {
namespace {

retry_decision finish(outcome result) noexcept {
    return {retry_decision::action::finish, result, {}, true};
}

}   // namespace

scheduler::scheduler(std::optional<rate_limit> rate, retry_config retry, std::uint64_t seed)
    : retry_(retry),
      rng_(seed) {
    if (rate) {
        bucket_.emplace(*rate);
        burst_ = std::max(rate->burst, 1.0);
        set_window_limit(rate->per_second);
    }
    if (rate && rate->adaptive) adaptive_.emplace(rate->per_second);
}

void scheduler::set_window_limit(double per_second) noexcept {
    // What the bucket grants in one second at most, rounded down.
    window_limit_ = static_cast<std::size_t>(std::max(1.0, std::floor(std::min(burst_ + per_second, 1e9))));
}

time_point scheduler::reserve_send(time_point now) {
    // Reserving at the pause's end rather than now spaces the requests that
    // waited out the pause by the rate instead of releasing them together.
    const time_point earliest = std::max(now, paused_until_);
    return bucket_ ? bucket_->reserve(earliest) : earliest;
}

std::optional<time_point> scheduler::pause_end(time_point now) const noexcept {
    if (now < paused_until_) return paused_until_;
    return std::nullopt;
}

std::optional<time_point> scheduler::window_full_until(time_point now) {
    if (!bucket_) return std::nullopt;
    while (!sent_in_window_.empty() && now - sent_in_window_.front() >= std::chrono::seconds(1))
        sent_in_window_.pop_front();
    if (sent_in_window_.size() < window_limit_) return std::nullopt;
    return sent_in_window_.front() + std::chrono::seconds(1);
}

std::uint64_t scheduler::on_send(time_point now) {
    if (bucket_) sent_in_window_.push_back(now);
    return adaptive_ ? adaptive_->on_send() : 0;
}

retry_decision scheduler::on_attempt(const attempt_report& attempt, unsigned attempt_number, time_point now,
                                     unsigned stale_retries) {
    // Every HTTP answer (a 2xx that is not a Chat included) speaks of the rate.
    if (adaptive_ && attempt.http_status != 0 &&
        adaptive_->on_answer(attempt.send_sequence, attempt.http_status, attempt.advertised, now) !=
            adaptive_rate::change::none) {
        bucket_->set_rate(adaptive_->current(), now);
        set_window_limit(adaptive_->current());
    }
    const auto& classified = attempt.classified;
    // The fail-fast breaker: the same transport failure on attempt after
    // attempt, with nothing else in between.
    if (classified.transport == transport_failure::none) {
        transport_failures_in_a_row_ = 0;
    } else {
        if (classified.transport != last_transport_failure_) transport_failures_in_a_row_ = 0;
        last_transport_failure_ = classified.transport;
        if (retry_.fail_fast > 0 && ++transport_failures_in_a_row_ >= retry_.fail_fast)
            return abort(abort_reason::fail_fast);
    }
    // Any other answer breaks a run of 401/403; no answer does not.
    if (attempt.http_status != 0 && classified.what != attempt_class::auth_refused) auth_failures_in_a_row_ = 0;

    switch (classified.what) {
    case attempt_class::success: return finish(outcome::created);
    case attempt_class::accepted_unusable:
        // The server took the request: sending it again could make a second chat.
        return finish(outcome::unknown);
    case attempt_class::auth_refused:
        if (++auth_failures_in_a_row_ < retry_.auth_failures_to_abort) return finish(outcome::failed);
        return abort(abort_reason::auth);
    case attempt_class::certificate:
        // A certificate does not fix itself, and a wrong CA or host name
        // fails every row: the batch stops at the first.
        return abort(abort_reason::certificate);
    case attempt_class::resend_stale:
        // The server closed an idle keep-alive connection: nothing reached it,
        // and a fresh connection will do, so resend at once without using up
        // an attempt. Bounded, in case every connection comes back stale.
        if (stale_retries < retry_.max_attempts && !aborted_) return retry_at(now, false, outcome::failed);
        return retry_with_backoff(attempt_number, now, outcome::failed);
    case attempt_class::retry_before_send: return retry_with_backoff(attempt_number, now, outcome::failed);
    case attempt_class::ambiguous:
        // The server may have acted on the request: sending it again could
        // open a second chat, so only with --retry-ambiguous.
        if (!retry_.retry_ambiguous) return finish(outcome::unknown);
        return retry_with_backoff(attempt_number, now, outcome::unknown);
    case attempt_class::retry_status:
        if (attempt.pauses_every_request()) {
            // A shorter Retry-After never cuts a longer pause.
            paused_until_ = std::max(paused_until_, now + *attempt.retry_after);
            if (!may_retry(attempt_number)) return finish(outcome::failed);
            return retry_at(paused_until_, true, outcome::failed);
        }
        return retry_with_backoff(attempt_number, now, outcome::failed);
    case attempt_class::row_failure: return finish(outcome::failed);
    }
    return finish(outcome::failed);   // a value outside the enum
}

retry_decision scheduler::abort(abort_reason why) {
    aborted_ = true;
    retry_decision d{retry_decision::action::abort_batch, outcome::failed, {}, true};
    d.why = why;
    return d;
}

retry_decision scheduler::retry_with_backoff(unsigned attempt_number, time_point now, outcome if_exhausted) {
    if (!may_retry(attempt_number)) return finish(if_exhausted);
    return retry_at(now + backoff(attempt_number), true, if_exhausted);
}

retry_decision scheduler::retry_at(time_point not_before, bool consumes_attempt, outcome if_stopped) {
    ++retries_;
    return {retry_decision::action::retry, if_stopped, not_before, consumes_attempt};
}

bool scheduler::may_retry(unsigned attempt_number) const noexcept {
    // Once the batch is aborted, a retry would only send more doomed requests.
    return attempt_number < retry_.max_attempts && !aborted_;
}

duration scheduler::backoff(unsigned attempt_number) {
    // Full jitter: uniform in [0, min(cap, base * 2^(attempt - 1))], so that
    // workers that failed together do not come back together.
    const unsigned doublings = attempt_number > 0 ? attempt_number - 1 : 0;
    const auto base = std::max(retry_.backoff_base.count(), duration::rep{0});
    const auto cap = std::max(retry_.backoff_cap.count(), duration::rep{0});
    // base * 2^doublings <= cap exactly when base <= cap / 2^doublings: no overflow.
    const duration::rep ceiling = doublings < 63 && base <= (cap >> doublings) ? base << doublings : cap;
    return duration(std::uniform_int_distribution<duration::rep>(0, ceiling)(rng_));
}

bool scheduler::aborted() const noexcept {
    return aborted_;
}

std::uint64_t scheduler::retries() const noexcept {
    return retries_;
}

}   // namespace invent_dispatch
