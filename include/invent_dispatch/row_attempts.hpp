#pragma once
// One row's attempts (SPEC §5, §6), sans-io: the worker's coroutine asks what
// to do next, does it (open, sleep, journal, send) and tells the answer. It
// keeps the row's count of attempts and stale retries, whether its `sending`
// record is written, its last failure, and the scheduler's decision; the
// retry rules themselves stay scheduler::on_attempt's. Tested with plain
// values and a fake clock.
#include <cstdint>
#include <optional>
#include <string>

#include "invent_dispatch/scheduler.hpp"

namespace invent_dispatch {

class row_attempts {
public:
    enum class step : std::uint8_t {
        connect,   // have a connection open (or on its way) before the grant; then opened()
        wait,   // sleep until wake_at(); then waited()
        write_ahead,   // journal the row's `sending` record and commit it; then written_ahead()
        send,   // send the request (its send_sequence()); then sent()
        judge,   // classify the answer (of the send, or of the open that failed); then judged()
        retry,   // keep_failure() with the answer, then sleep until wake_at(); then waited()
        finish,   // the row ends with final_outcome(), and the last answer
        abort_batch,   // the row ends failed with the last answer, and the batch stops (why())
        withdrawn,   // the stop closed the connection the send waited for: the attempt does not count; then stopped
        stopped,   // the batch stopped before the next attempt left: the final record if outcome_if_stopped()
        abandon,   // the `sending` record could not be kept (the batch stops): no record, the next run sends it
    };

    // What the row keeps of its last failed attempt while it waits to retry,
    // in its own storage (an answer's views point into buffers the next open
    // or send reuses).
    struct failure {
        std::string words;   // as the caller describes the answer
        int status = 0;
        duration elapsed{};
    };

    explicit row_attempts(scheduler& rules) noexcept : rules_(rules) {}

    static constexpr step first() noexcept { return step::connect; }
    // The connection is open (failed: false), could not be made (failed), or
    // was closed by the stop (failed, and stopping).
    step opened(bool failed, bool stopping, time_point now);
    // The sleep ended; may_send is false when the batch is stopping.
    step waited(bool may_send, time_point now);
    step written_ahead(bool kept, time_point now);
    // stopped_while_connecting: the send failed making its connection and the
    // batch is stopping (the stop closed it): nothing of it left.
    step sent(bool stopped_while_connecting) noexcept;
    // The attempt as the failure classifier judged it (send_sequence filled
    // in): the scheduler decides, and the row counts the attempt.
    step judged(const attempt_report& attempt, time_point now);
    void keep_failure(std::string words, int status, duration elapsed);

    time_point wake_at() const noexcept { return wake_at_; }
    std::uint64_t send_sequence() const noexcept { return send_sequence_; }
    unsigned attempts() const noexcept { return attempts_; }
    unsigned stale_retries() const noexcept { return stale_retries_; }
    bool sending_recorded() const noexcept { return sending_recorded_; }
    outcome final_outcome() const noexcept { return decision_.final_outcome; }   // with finish
    abort_reason why() const noexcept { return decision_.why; }   // with abort_batch
    // With stopped: how the row ends, or nullopt when there is nothing to
    // record (no attempt made and no `sending` record: the next run sends it).
    std::optional<outcome> outcome_if_stopped() const noexcept;
    // An earlier attempt may have created the chat (its answer was lost, or a
    // 2xx that was not a Chat: --retry-ambiguous retried it), so the row ends
    // unknown where this attempt alone would have failed it.
    bool earlier_attempt_may_have_created() const noexcept { return failure_made_unknown_; }
    // Some attempt judged so far left the chat in doubt.
    bool may_have_created() const noexcept { return may_have_created_; }
    // The failure kept by the last retry; nullptr before any attempt counted.
    const failure* last_failure() const noexcept { return attempts_ > 0 ? &last_failure_ : nullptr; }

private:
    // What a wait is for: a grant (then the pause and the write-ahead are
    // checked), room in the send window (scheduler::window_full_until; then
    // a new grant), or a retry.
    enum class phase : std::uint8_t { connecting, granting, window, retrying };
    step wait_for_grant(time_point now);
    step send_unless_held(time_point now);

    scheduler& rules_;
    phase phase_ = phase::connecting;
    unsigned attempts_ = 0;   // counted from 1; a stale retry gives its attempt back
    unsigned stale_retries_ = 0;
    bool sending_recorded_ = false;
    std::uint64_t send_sequence_ = 0;   // the adaptive rate's number of the attempt's request
    time_point wake_at_{};
    // The last decision: with retry, its final_outcome is the row's outcome
    // should the batch stop before the retry (unknown after an ambiguous
    // attempt, as the scheduler judged it); failed before any decision.
    retry_decision decision_{retry_decision::action::finish, outcome::failed, {}, true};
    failure last_failure_;
    bool may_have_created_ = false;   // some attempt's answer left the chat in doubt
    bool failure_made_unknown_ = false;
};

}   // namespace invent_dispatch
