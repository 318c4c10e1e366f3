#include "invent_dispatch/scheduler.hpp"

#include <algorithm>

#include "invent_dispatch/errors.hpp"

namespace invent_dispatch {
namespace {

retry_decision finish(outcome result) noexcept {
    return {retry_decision::action::finish, result, {}, true};
}

} // namespace

scheduler::scheduler(std::optional<rate_limit> rate, retry_config retry, std::uint64_t seed)
    : retry_(retry), rng_(seed) {
    if (rate) bucket_.emplace(*rate);
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

retry_decision scheduler::on_attempt(const attempt_report& report, unsigned attempt_number,
                                     time_point now, unsigned stale_retries) {
    if (!report.ec) return on_http_answer(report, attempt_number, now);
    if (report.ec.category() != dispatch_category()) return finish(outcome::failed);

    switch (static_cast<dispatch_errc>(report.ec.value())) {
    case dispatch_errc::http_status:
        return on_http_answer(report, attempt_number, now);
    case dispatch_errc::not_a_chat:
        // An answer all the same: it breaks a run of 401/403.
        auth_failures_in_a_row_ = 0;
        return finish(outcome::failed);
    case dispatch_errc::tls_verify_failed:
    case dispatch_errc::proxy_auth_required:
        // A certificate or the proxy's credentials do not fix themselves, and
        // a wrong CA, host name or password fails every row: it counts toward
        // the abort like a refused token.
        return count_auth_failure();
    case dispatch_errc::stale_connection:
        // The server closed an idle keep-alive connection: nothing reached it,
        // and a fresh connection will do, so resend at once without using up
        // an attempt. Bounded, in case every connection comes back stale.
        if (stale_retries < retry_.max_attempts && !aborted_) return retry_at(now, false);
        return retry_with_backoff(attempt_number, now, outcome::failed);
    case dispatch_errc::connect_failed:
    case dispatch_errc::proxy_refused:
    case dispatch_errc::tls_handshake_failed:
    case dispatch_errc::connect_timeout:
        return retry_with_backoff(attempt_number, now, outcome::failed);
    case dispatch_errc::response_timeout:
    case dispatch_errc::connection_lost:
    case dispatch_errc::bad_http_response:
        // The server may have acted on the request: sending it again could
        // open a second chat, so only with --retry-ambiguous.
        if (!retry_.retry_ambiguous) return finish(outcome::unknown);
        return retry_with_backoff(attempt_number, now, outcome::unknown);
    case dispatch_errc::auth_rejected:
    case dispatch_errc::deadline_exceeded:
    case dispatch_errc::cancelled:
        // The dispatcher decides these rows' outcome itself.
        return finish(outcome::failed);
    }
    return finish(outcome::failed);   // a value outside the enum
}

retry_decision scheduler::on_http_answer(const attempt_report& report, unsigned attempt_number,
                                         time_point now) {
    const int status = report.http_status;
    if (status == 401 || status == 403) return count_auth_failure();
    auth_failures_in_a_row_ = 0;
    if (status >= 200 && status < 300) return finish(outcome::created);

    switch (status) {
    case 429:
    case 503:
        if (report.retry_after) {
            // The server speaks for every connection: the whole dispatcher
            // waits, and a shorter Retry-After never cuts a longer pause.
            paused_until_ = std::max(paused_until_, now + *report.retry_after);
            if (!may_retry(attempt_number)) return finish(outcome::failed);
            return retry_at(paused_until_, true);
        }
        return retry_with_backoff(attempt_number, now, outcome::failed);
    case 408:
    case 500:
    case 502:
    case 504:
        return retry_with_backoff(attempt_number, now, outcome::failed);
    default:
        return finish(outcome::failed);
    }
}

retry_decision scheduler::retry_with_backoff(unsigned attempt_number, time_point now,
                                             outcome if_exhausted) {
    if (!may_retry(attempt_number)) return finish(if_exhausted);
    return retry_at(now + backoff(attempt_number), true);
}

retry_decision scheduler::retry_at(time_point not_before, bool consumes_attempt) {
    ++retries_;
    return {retry_decision::action::retry, outcome::failed, not_before, consumes_attempt};
}

retry_decision scheduler::count_auth_failure() {
    if (++auth_failures_in_a_row_ < retry_.auth_failures_to_abort) return finish(outcome::failed);
    aborted_ = true;
    return {retry_decision::action::abort_batch, outcome::failed, {}, true};
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

bool scheduler::aborted() const noexcept { return aborted_; }

std::uint64_t scheduler::retries() const noexcept { return retries_; }

} // namespace invent_dispatch
