#include "invent_dispatch/row_attempts.hpp"

#include <utility>

namespace invent_dispatch {

row_attempts::step row_attempts::opened(bool failed, bool stopping, time_point now) {
    if (failed && stopping) return step::stopped;   // closed by the stop (or failed as it came)
    if (failed) {
        // The connection it needed failed: that is the attempt, with no request sent.
        ++attempts_;
        send_sequence_ = 0;
        return step::judge;
    }
    // Connected before the grant is taken: a handshake can outlast a grant
    // interval, and grants used late would bunch requests up where the
    // server counts them.
    phase_ = phase::granting;
    return wait_for_grant(now);
}

row_attempts::step row_attempts::wait_for_grant(time_point now) {
    wake_at_ = rules_.reserve_send(now);
    return step::wait;
}

row_attempts::step row_attempts::waited(bool may_send, time_point now) {
    if (!may_send) return step::stopped;
    switch (phase_) {
    case phase::retrying: phase_ = phase::connecting; return step::connect;
    case phase::connecting: break;   // not a phase that waits
    case phase::granting:
        // A grant taken before a Retry-After pause began is stale once the
        // pause ends: take a new one, so the waiters leave at the rate.
        if (rules_.pause_end(now)) return wait_for_grant(now);
        // Write-ahead, once per row: if we die from here on, the next run
        // knows this row may have reached the server.
        if (!sending_recorded_) return step::write_ahead;
        break;
    case phase::window:
        // The window held this send because the sends of a second ago fill
        // it. Sending the moment they leave would copy their spacing: a
        // bunch of them (a stall, the first second at MAX) would come back
        // bunched every second, with nothing to spare for the smallest delay
        // between here and the server's clock. A new grant spaces it by the rate.
        phase_ = phase::granting;
        return wait_for_grant(now);
    }
    return send_unless_held(now);
}

row_attempts::step row_attempts::written_ahead(bool kept, time_point now) {
    if (!kept) return step::abandon;
    sending_recorded_ = true;
    return send_unless_held(now);
}

row_attempts::step row_attempts::send_unless_held(time_point now) {
    // A pause may have begun during the write-ahead or a wait for the window.
    if (rules_.pause_end(now)) {
        phase_ = phase::granting;
        return wait_for_grant(now);
    }
    // Asked last: a group commit of the journal may just have released many rows at once.
    if (const auto later = rules_.window_full_until(now)) {
        phase_ = phase::window;
        wake_at_ = *later;
        return step::wait;
    }
    ++attempts_;
    send_sequence_ = rules_.on_send(now);
    return step::send;
}

row_attempts::step row_attempts::sent(bool stopped_while_connecting) noexcept {
    if (!stopped_while_connecting) return step::judge;
    --attempts_;   // nothing of it left: it does not count
    return step::withdrawn;
}

row_attempts::step row_attempts::judged(const attempt_report& attempt, time_point now) {
    decision_ = rules_.on_attempt(attempt, attempts_, now, stale_retries_);
    // The scheduler judges this attempt alone. Once one attempt may have
    // created the chat, no later one can show it did not: failed would have
    // the next run send the row again (SPEC §4), so the row ends unknown.
    failure_made_unknown_ = may_have_created_ && decision_.final_outcome == outcome::failed;
    if (failure_made_unknown_) decision_.final_outcome = outcome::unknown;
    if (decision_.final_outcome == outcome::unknown) may_have_created_ = true;
    switch (decision_.what) {
    case retry_decision::action::finish: return step::finish;
    case retry_decision::action::abort_batch: return step::abort_batch;
    case retry_decision::action::retry: break;
    }
    if (!decision_.consumes_attempt) {
        --attempts_;   // nothing reached the server: the resend keeps the attempt's number
        ++stale_retries_;
    }
    phase_ = phase::retrying;
    wake_at_ = decision_.not_before;
    return step::retry;
}

void row_attempts::keep_failure(std::string words, int status, duration elapsed) {
    last_failure_.words = std::move(words);
    last_failure_.status = status;
    last_failure_.elapsed = elapsed;
}

std::optional<outcome> row_attempts::outcome_if_stopped() const noexcept {
    if (attempts_ == 0 && !sending_recorded_) return std::nullopt;
    return decision_.final_outcome;
}

}   // namespace invent_dispatch
