#include <fmt/format.h>

#include <algorithm>

#include "invent_dispatch/report.hpp"

namespace invent_dispatch {

run_report::run_report() : started_(std::chrono::steady_clock::now()), started_at_(std::chrono::system_clock::now()) {}

void run_report::row_finished(const row_result& result) {
    ++counters_.by_outcome[static_cast<std::size_t>(result.result)];
    if (result.attempts > 0) ++counters_.by_status[result.http_status];
    if (result.http_status != 0) {
        const auto micros = static_cast<std::uint64_t>(std::max(0.0, result.latency_ms) * 1000.0 + 0.5);
        latencies_.record(micros);
        durations_.record(micros);
    }
    if (counts_as_error(result.result) && !result.error.empty())
        errors_.add(result.error, fmt::format("line {} {}", result.line, result.key));
}

void run_report::row_resumed(outcome previous) {
    ++counters_.resumed_skips;
    ++(previous == outcome::created ? counters_.resumed_created : counters_.resumed_unknown);
}

void run_report::request_started() noexcept {
    ++counters_.requests;
    ++counters_.in_flight;
}

void run_report::request_finished() noexcept {
    --counters_.in_flight;
}

void run_report::request_withdrawn() noexcept {
    --counters_.requests;
}

void run_report::stale_reconnects_seen(std::uint64_t reconnects) noexcept {
    counters_.stale_reconnects += reconnects;
}

void run_report::rate_limit_paused(std::chrono::steady_clock::time_point until) noexcept {
    ++counters_.rate_limit_pauses;
    counters_.paused_until = until;
}

void run_report::retries_so_far(std::uint64_t retries) noexcept {
    counters_.retries = retries;
}

std::uint64_t run_report::rows_done() const noexcept {
    std::uint64_t finished = 0;
    for (std::size_t o = 0; o < static_cast<std::size_t>(outcome::sending); ++o) finished += counters_.by_outcome[o];
    return finished + counters_.resumed_skips;
}

std::chrono::duration<double> run_report::elapsed() const noexcept {
    return finished_.value_or(std::chrono::steady_clock::now()) - started_;
}

void run_report::finish() {
    if (finished_) return;
    finished_ = std::chrono::steady_clock::now();
    finished_at_ = std::chrono::system_clock::now();
}

batch_summary run_report::summary(const run_facts& facts) const {
    batch_summary s;
    std::copy_n(counters_.by_outcome.begin(), s.outcomes.size(), s.outcomes.begin());
    s.created_earlier = counters_.resumed_created;
    s.unknown_earlier = counters_.resumed_unknown;
    s.by_status = counters_.by_status;
    s.requests = counters_.requests;
    s.retries = counters_.retries;
    s.stale_reconnects = counters_.stale_reconnects;
    s.rate_limit_pauses = counters_.rate_limit_pauses;
    s.latencies = latencies_;
    s.wall_seconds = elapsed().count();
    s.top_errors = errors_.top(batch_summary::top_errors_shown);
    s.started_at = format_utc(started_at_);
    if (finished_at_) s.finished_at = format_utc(*finished_at_);
    s.version = facts.version;
    s.input = facts.input;
    s.base_url = facts.base_url;
    s.exit_code = facts.exit_code;
    s.rate = rate_.summarize(finished_.value_or(std::chrono::steady_clock::now()));
    return s;
}

}   // namespace invent_dispatch
