#include "invent_dispatch/dispatcher.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/string.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <list>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "invent_dispatch/admission.hpp"
#include "invent_dispatch/connection.hpp"
#include "invent_dispatch/errors.hpp"
#include "invent_dispatch/journal_report.hpp"
#include "invent_dispatch/journal_writer.hpp"
#include "invent_dispatch/logging.hpp"
#include "invent_dispatch/metrics.hpp"
#include "invent_dispatch/report.hpp"
#include "invent_dispatch/response_parser.hpp"
#include "invent_dispatch/retry_after.hpp"
#include "invent_dispatch/row_attempts.hpp"
#include "invent_dispatch/rows.hpp"
#include "invent_dispatch/scheduler.hpp"
#include "invent_dispatch/server_text.hpp"
#include "invent_dispatch/utc_time.hpp"
#include "invent_dispatch/version.hpp"

namespace invent_dispatch {
namespace {

namespace net = boost::asio;
constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);

enum class stop_reason { none, interrupt, terminate, breaker, deadline, retry_after, journal, fatal };

std::string input_identity(const input_config& input) {
    if (input.path == "-") return "<stdin>";
    std::error_code ec;
    const auto canonical = std::filesystem::weakly_canonical(input.path, ec);
    return ec ? input.path : canonical.string();
}

journal_options make_journal_options(const dispatch_config& config, const dispatch_context& context) {
    journal_options options;
    options.path = config.results_path;
    options.input_identity = input_identity(config.input);
    options.input_content = fingerprint_input(config.input.path);
    options.write = context.journal_write;
    return options;
}

std::string shard_text(const std::optional<shard_spec>& shard) {
    return shard ? fmt::format("{}/{}", shard->index, shard->count) : std::string();
}

bool is_success(int status) {
    return status >= 200 && status < 300;
}

// Rows that are not sent, read in a row before the reader steps aside.
constexpr unsigned rows_between_yields = 1024;

// Failed rows in the log (SPEC §3): the first ones each at warn with line,
// key and reason; after them one line a minute says how many more (and the
// last count at the end), so a failing batch does not flood the log.
class failed_row_log {
public:
    static constexpr unsigned logged_one_by_one = 20;
    static constexpr std::chrono::minutes count_interval{1};

    void row_ended(const row_result& r, clock_type::time_point now) {
        if (r.result != outcome::failed && r.result != outcome::unknown) return;
        if (logged_ < logged_one_by_one) {
            spdlog::warn("line {} ({}): {}: {}", r.line, r.key, to_string(r.result), r.error);
            if (++logged_ == logged_one_by_one) {
                spdlog::warn("{} rows failed or ended unknown: from now on they are counted once a minute "
                             "(the journal has each)",
                             logged_one_by_one);
                counting_since_ = now;
            }
            return;
        }
        ++not_logged_;
        if (now - counting_since_ >= count_interval) say_count(now);
    }
    void say_count(clock_type::time_point now) {
        if (not_logged_ == 0) return;
        spdlog::warn("{} more rows failed or ended unknown in the last {} s (the journal has each)", not_logged_,
                     std::chrono::duration_cast<std::chrono::seconds>(now - counting_since_).count());
        not_logged_ = 0;
        counting_since_ = now;
    }

private:
    unsigned logged_ = 0;
    std::uint64_t not_logged_ = 0;
    clock_type::time_point counting_since_{};
};

// The row's identity in a result (from a chat_request, or a dangling_send an
// earlier run left); the caller adds how it ended.
template <class Row>
row_result result_of(const Row& row, outcome result) {
    row_result r;
    r.line = row.line;
    r.key = row.key;
    r.org_id = row.org_id;
    r.contact_id = row.contact_id;
    r.channel_id = row.channel_id;
    r.result = result;
    return r;
}

// One worker: one connection, one row at a time, all buffers reused.
struct worker {
    worker(net::io_context& io, const connection_pool& pool) : conn(io.get_executor(), pool), timer(io) {}
    connection conn;
    net::steady_timer timer;
    built_row row;
    chat_info chat;
    std::string error;
    std::string target;   // the request's path
    std::uint64_t stale_seen = 0;
    bool connecting = false;
    bool in_flight = false;
    bool cut_off = false;   // its request's connection was closed by the drain timeout
};

class dispatcher {
public:
    dispatcher(const dispatch_config& config, const dispatch_context& context)
        : config_(config),
          context_(context),
          pool_(config.client),
          scheduler_(config.rate, config.retry, config.seed ? config.seed : std::random_device{}()),
          journal_options_(make_journal_options(config, context)),
          journal_file_(config.results_path),
          resumed_(load_journal(journal_file_, journal_options_)),
          admission_(config.admission, resumed_),
          rows_(open_rows(config.input, config.defaults)),
          journal_(io_.get_executor(), journal_file_, journal_options_),
          signals_(io_, SIGINT, SIGTERM),
          deadline_timer_(io_),
          drain_timer_(io_),
          progress_timer_(io_),
          metrics_timer_(io_) {}

    int run() {
        // Armed first: the deadline is for the whole batch, start-up included.
        if (config_.deadline) {
            deadline_timer_.expires_after(*config_.deadline);
            deadline_timer_.async_wait([this](boost::system::error_code ec) {
                if (ec || stopping()) return;
                spdlog::warn("the --deadline ({} ms) passed: no new requests; waiting up to {} ms for {} in flight",
                             config_.deadline->count(), config_.drain_timeout.count(), report_.counters().in_flight);
                request_stop(stop_reason::deadline);
            });
        }
        const auto shard = shard_text(config_.admission.shard);
        journal_.append_run_start({INVENT_DISPATCH_VERSION, config_.base_url, shard, ::getpid()});
        journal_.on_failure([this](const std::string& message) {
            spdlog::error("{}: stopping the batch: no new requests, {} in flight may finish; the rows not sent "
                          "are sent by the next run",
                          message, report_.counters().in_flight);
            request_stop(stop_reason::journal);
        });
        record_dangling_sends();
        journal_.start();
        const auto total_rows = count_rows(config_.input);
        if (total_rows) admission_.expect_rows(*total_rows);
        if (!config_.quiet) progress_.emplace(report_, total_rows, context_.terminal, *context_.out);
        spdlog::info("dispatching {} to {}{} with concurrency {}, rate {}", rows_->display_name(), config_.base_url,
                     config_.client.proxy ? " through the proxy " + config_.client.proxy->display : std::string(),
                     config_.concurrency,
                     !config_.rate ? std::string("unlimited")
                     : config_.rate->adaptive
                         ? fmt::format("auto up to {}/s burst {}", config_.rate->per_second, config_.rate->burst)
                         : fmt::format("{}/s burst {}", config_.rate->per_second, config_.rate->burst));
        if (const auto* adaptive = scheduler_.adaptive()) report_.rate_changed(adaptive->current(), clock_type::now());
        watch_signals();
        if (progress_) net::co_spawn(io_, show_progress(), log_escaped_exception{"progress line"});
        if (config_.metrics_path) net::co_spawn(io_, refresh_metrics(), log_escaped_exception{"metrics file refresh"});
        for (unsigned i = 0; i < config_.concurrency; ++i) {
            auto& w = workers_.emplace_back(io_, pool_);
            ++active_workers_;
            net::co_spawn(io_, work(w), [this, &w](std::exception_ptr failure) {
                w.conn.close();   // nothing more for it to carry; its timers go too
                worker_exited(failure);
            });
        }
        io_.run();
        return finish();
    }

private:
    // `sending` records an earlier run left without a final record: that
    // request may have created a chat, so the row is unknown from now on.
    void record_dangling_sends() {
        if (!resumed_.moved_from.empty())
            spdlog::info("{}: its input moved from {} to {} (the same content): resuming", config_.results_path,
                         resumed_.moved_from, rows_->display_name());
        if (resumed_.repaired_torn_line)
            spdlog::warn("{}: repaired a torn last line left by an interrupted run", config_.results_path);
        for (const auto& dangling : resumed_.dangling) {
            auto result = result_of(dangling, outcome::unknown);
            result.error = "request was in flight when an earlier run stopped";
            journal_.append(result);
        }
        if (!resumed_.dangling.empty())
            spdlog::warn("{} rows were in flight when an earlier run stopped: recorded as unknown{}",
                         resumed_.dangling.size(),
                         config_.admission.retry_unknown ? " and sent again (--retry-unknown)" : "");
    }

    void watch_signals() {
        signals_.async_wait([this](boost::system::error_code ec, int signal) {
            if (ec) return;
            const auto reason = signal == SIGINT ? stop_reason::interrupt : stop_reason::terminate;
            if (stop_ == stop_reason::interrupt || stop_ == stop_reason::terminate) {
                // Second signal: leave now, the journal flushed as whole lines.
                const int status = signal == SIGINT ? exit_sigint : exit_sigterm;
                journal_.append_run_end(status);
                journal_.close();
                std::_Exit(status);
            }
            spdlog::warn(
                "stopping: no new requests; waiting up to {} ms for {} in flight (signal again to quit at once)",
                config_.drain_timeout.count(), report_.counters().in_flight);
            request_stop(reason);
            watch_signals();
        });
    }

    bool stopping() const noexcept { return stop_ != stop_reason::none; }

    void request_stop(stop_reason why) {
        if (stopping()) {
            // A signal during another stop still decides the exit status.
            if (why == stop_reason::interrupt || why == stop_reason::terminate) stop_ = why;
            return;
        }
        stop_ = why;
        for (auto& w : workers_) {
            w.timer.cancel();
            // A connection still being made (lookup, connect, handshake; by
            // open, or by send when another was on its way) carries no
            // request yet: no new request starts, so it goes now.
            if (w.connecting || w.conn.connecting()) w.conn.close();
        }
        drain_timer_.expires_after(config_.drain_timeout);
        drain_timer_.async_wait([this](boost::system::error_code ec) {
            if (ec) return;
            const auto in_flight = report_.counters().in_flight;
            if (in_flight > 0)
                spdlog::warn("the drain timeout ({} ms) passed: closing {} requests still in flight (recorded unknown)",
                             config_.drain_timeout.count(), in_flight);
            for (auto& w : workers_) {
                if (!w.in_flight && !w.connecting) continue;
                w.cut_off = w.in_flight;
                w.conn.close();
            }
        });
    }

    net::awaitable<void> show_progress() {
        while (active_workers_ > 0) {
            progress_->tick(std::chrono::steady_clock::now());
            progress_timer_.expires_after(std::chrono::milliseconds(100));
            co_await progress_timer_.async_wait(use_nothrow);
        }
    }

    // SPEC §9: the textfile collector's file, rewritten while the run goes on.
    net::awaitable<void> refresh_metrics() {
        while (active_workers_ > 0) {
            write_metrics(std::nullopt);
            metrics_timer_.expires_after(metrics_interval);
            co_await metrics_timer_.async_wait(use_nothrow);
        }
    }

    void write_metrics(std::optional<int> exit_code) {
        metrics_snapshot m;
        m.input = journal_options_.input_identity;
        const auto& c = report_.counters();
        std::copy_n(c.by_outcome.begin(), m.rows_by_outcome.size(), m.rows_by_outcome.begin());
        m.requests_by_status = c.by_status;
        m.retries = scheduler_.retries();
        m.durations = report_.durations();
        m.in_flight = c.in_flight;
        m.rate_limit_pauses = c.rate_limit_pauses;
        if (const auto* adaptive = scheduler_.adaptive())
            m.rate_per_second = adaptive->current();
        else if (config_.rate)
            m.rate_per_second = config_.rate->per_second;
        const auto seconds = [](std::chrono::system_clock::time_point t) {
            return std::chrono::duration<double>(t.time_since_epoch()).count();
        };
        m.run_start_seconds = seconds(report_.started_at());
        if (exit_code) {
            m.run_end_seconds = seconds(report_.finished_at().value_or(std::chrono::system_clock::now()));
            m.exit_code = exit_code;
        }
        if (const auto ec = write_file_atomically(*config_.metrics_path, prometheus_text(m)); ec && !metrics_failed_) {
            spdlog::warn("{}: cannot write the metrics: {}", *config_.metrics_path, ec.message());
            metrics_failed_ = true;   // said once; the next refresh tries again
        }
    }

    // Sleeps until `when`; false when the batch is stopping.
    net::awaitable<bool> wait_until(worker& w, time_point when) {
        if (when > clock_type::now() && !stopping()) {
            w.timer.expires_at(when);
            co_await w.timer.async_wait(use_nothrow);
        }
        co_return !stopping();
    }

    // The next row to send; rows that are not sent get their record here.
    // They need no I/O, so a long run of them (invalid, duplicate, done
    // earlier, another shard's) would hold the thread: signals, the deadline
    // and the journal's flush would wait for its end, and its records would
    // pile up in memory. Every rows_between_yields of them (counted across
    // the workers, so the bound does not grow with --concurrency) their
    // records are written out and the reader steps aside (work() does it:
    // this stays free of co_await).
    enum class next_step { send, write_and_yield, end };

    next_step next_to_send(built_row& row) {
        while (!stopping()) {
            if (unsent_since_write_ >= rows_between_yields) return next_step::write_and_yield;
            if (!rows_->next(row)) break;
            ++unsent_since_write_;   // until it turns out to be sent
            if (!row.valid) {
                if (admission_.owns_invalid_line(row.request.line)) record_unsent(row, outcome::invalid, row.reason);
                continue;
            }
            switch (admission_.admit(row.request.key)) {
            case admission_decision::send: --unsent_since_write_; return next_step::send;
            case admission_decision::other_shard: break;
            case admission_decision::already_created: report_.row_resumed(outcome::created); break;
            case admission_decision::already_unknown: report_.row_resumed(outcome::unknown); break;
            case admission_decision::duplicate: record_unsent(row, outcome::skipped, "duplicate"); break;
            }
        }
        return next_step::end;
    }

    void record_unsent(const built_row& row, outcome result, std::string_view reason) {
        auto r = result_of(row.request, result);
        r.error = reason;
        journal_.append(r);
        report_.row_finished(r);
    }

    net::awaitable<void> work(worker& w) {
        while (!stopping()) {
            next_step next = next_step::end;
            try {
                next = next_to_send(w.row);
            } catch (const input_error& e) {
                spdlog::error("{}", e.what());
                fatal_input_ = true;
                request_stop(stop_reason::fatal);
            }
            if (next == next_step::write_and_yield) {
                // A failed write stops the batch (on_failure): the loop ends.
                if (co_await journal_.commit()) break;
                unsent_since_write_ = 0;
                co_await net::post(io_, net::use_awaitable);
                continue;
            }
            if (next == next_step::end) break;
            co_await send_row(w);
        }
    }

    // The row's attempts: row_attempts says what comes next, this does it.
    net::awaitable<void> send_row(worker& w) {
        using step = row_attempts::step;
        const chat_request& request = w.row.request;
        row_attempts row(scheduler_);
        http_answer answer;
        for (auto next = row_attempts::first();;) {
            switch (next) {
            case step::connect:
                if (w.conn.is_open()) {   // no coroutine for the common case
                    next = row.opened(false, stopping(), clock_type::now());
                    break;
                }
                w.connecting = true;
                answer = co_await w.conn.open();
                w.connecting = false;
                next = row.opened(answer.ec.failed(), stopping(), clock_type::now());
                if (next == step::judge) {
                    report_.request_started();   // the connection it needed failed: the attempt counts
                    report_.request_finished();
                }
                break;
            case step::write_ahead: {
                journal_.append_sending(request.line, request.key);
                const bool kept = !co_await journal_.commit();
                next = row.written_ahead(kept, clock_type::now());   // the time after the commit
                break;
            }
            case step::send:
                report_.request_started();
                w.in_flight = true;
                answer = co_await w.conn.send(chat_creation(request, config_.client.endpoint.base_path, w.target));
                report_.request_finished();
                w.in_flight = false;
                next = row.sent(answer.ec && answer.stage == attempt_stage::connect && stopping());
                break;
            case step::judge: {
                note_stale_reconnects(w);
                const auto attempt = classify(w, answer, row.send_sequence());
                if (w.cut_off) {
                    finish_row(w, answer, outcome::unknown, row.attempts(), "stopped while the request was in flight");
                    co_return;
                }
                if (over_retry_after_cap(attempt)) {
                    stop_for_retry_after(w, answer, attempt, row);
                    co_return;
                }
                const double rate_before = scheduler_.adaptive() ? scheduler_.adaptive()->current() : 0;
                next = row.judged(attempt, clock_type::now());
                record_pause(answer.status);
                note_rate_change(rate_before);
                break;
            }
            case step::retry: {
                auto failure = describe_failure(answer);
                spdlog::debug("line {}: attempt {} failed ({}), retrying", request.line, row.attempts(), failure);
                row.keep_failure(std::move(failure), answer.status, answer.elapsed);
                [[fallthrough]];
            }
            case step::wait: {
                // Its own statement: the time read after the sleep, not before it.
                const bool may_send = co_await wait_until(w, row.wake_at());
                next = row.waited(may_send, clock_type::now());
                break;
            }
            case step::finish: finish_row(w, answer, row.final_outcome(), row.attempts(), unknown_note(row)); co_return;
            case step::abort_batch:
                finish_row(w, answer, row.final_outcome(), row.attempts(), unknown_note(row));
                // The other requests in flight get the same refusal: say it once.
                if (!stopping()) say_why_stopped(row.why(), answer);
                request_stop(stop_reason::breaker);
                co_return;
            case step::withdrawn: report_.request_withdrawn(); [[fallthrough]];
            case step::stopped: record_stopped(w, row); co_return;
            case step::abandon: co_return;   // the batch stops; the next run sends the row
            }
        }
    }

    static std::string_view unknown_note(const row_attempts& row) {
        return row.earlier_attempt_may_have_created() ? "an earlier attempt may have created the chat"
                                                      : std::string_view{};
    }

    void stop_for_retry_after(worker& w, const http_answer& answer, const attempt_report& attempt,
                              const row_attempts& row) {
        // Not counted by the scheduler: an earlier ambiguous attempt still makes it unknown.
        finish_row(w, answer, row.may_have_created() ? outcome::unknown : outcome::failed, row.attempts(),
                   "Retry-After over --max-retry-after");
        if (!stopping())
            spdlog::error("HTTP {} asked to wait {} s (Retry-After), more than --max-retry-after ({} s): "
                          "stopping the batch; run the same command later to finish it",
                          attempt.http_status,
                          std::chrono::duration_cast<std::chrono::seconds>(*attempt.retry_after).count(),
                          std::chrono::duration_cast<std::chrono::seconds>(config_.max_retry_after).count());
        request_stop(stop_reason::retry_after);
    }

    // A Retry-After that paused every worker, or pushed a pause a second or
    // more past what the journal already says.
    void record_pause(int status) {
        const auto now = clock_type::now();
        const auto until = scheduler_.pause_end(now);
        if (!until || *until < recorded_pause_end_ + std::chrono::seconds(1)) return;
        recorded_pause_end_ = *until;
        report_.rate_limit_paused(*until);   // the progress line shows it
        const auto wall_until = std::chrono::system_clock::now() +
                                std::chrono::duration_cast<std::chrono::system_clock::duration>(*until - now);
        journal_.append_pause(status, wall_until);
        // Without a word a long pause looks like a hang.
        spdlog::warn("HTTP {} with Retry-After: no request leaves until {} ({:.1f} s)", status, format_utc(wall_until),
                     std::chrono::duration<double>(*until - now).count());
    }

    // Kept-alive connections the worker's handle found closed, for the summary.
    void note_stale_reconnects(worker& w) {
        const auto stale = w.conn.stale_reconnects();
        report_.stale_reconnects_seen(stale - w.stale_seen);
        w.stale_seen = stale;
    }

    // The attempt as the failure classifier judges it. A 2xx is a Chat only
    // when its body says so; otherwise answer.ec becomes not_a_chat and
    // w.error says what was wrong with the body. send_sequence: the adaptive
    // rate's number of the request (scheduler::on_send).
    attempt_report classify(worker& w, http_answer& answer, std::uint64_t send_sequence) {
        if (!answer.ec && is_success(answer.status)) {
            const auto coding = answer.headers.content_encoding;
            if (answer.body.size() == 0)
                w.error = "the answer has no body";
            else if (!coding.empty() && !boost::beast::iequals(coding, "identity"))
                w.error = fmt::format("the body is in a content coding we did not ask for ({})", coding);
            else if (parser_.parse_chat(answer.body, w.chat))
                w.error = parser_.chat_problem();
            else
                w.error.clear();
            if (!w.error.empty()) {
                answer.ec = dispatch_errc::not_a_chat;
                answer.detail = w.error;
            }
        }
        attempt_report attempt{classify_attempt(answer.stage, answer.ec, answer.status), answer.status, std::nullopt,
                               send_sequence};
        const auto& headers = answer.headers;
        const auto now_wall = std::chrono::system_clock::now();
        if (!headers.retry_after.empty()) attempt.retry_after = parse_retry_after(headers.retry_after, now_wall);
        if (scheduler_.adaptive())
            attempt.advertised =
                parse_rate_limit_fields({headers.ratelimit, headers.ratelimit_policy, headers.x_ratelimit_limit,
                                         headers.x_ratelimit_remaining, headers.x_ratelimit_reset},
                                        now_wall);
        return attempt;
    }

    // --rate auto: a new rate goes to the report and to the debug log.
    void note_rate_change(double before) {
        const auto* adaptive = scheduler_.adaptive();
        if (!adaptive || adaptive->current() == before) return;
        report_.rate_changed(adaptive->current(), clock_type::now());
        if (!spdlog::should_log(spdlog::level::debug)) return;
        std::string why;
        switch (adaptive->last_change()) {
        case adaptive_rate::change::cut: why = "the server refused a request (429/503)"; break;
        case adaptive_rate::change::raise: why = "answers stay clean"; break;
        case adaptive_rate::change::advertised:
            why =
                fmt::format("the server's rate-limit headers allow {:.1f}/s", adaptive->advertised_rate().value_or(0));
            break;
        case adaptive_rate::change::none: break;
        }
        spdlog::debug("rate {:.1f}/s -> {:.1f}/s: {}", before, adaptive->current(), why);
    }

    bool over_retry_after_cap(const attempt_report& attempt) const {
        return attempt.pauses_every_request() && *attempt.retry_after > config_.max_retry_after;
    }

    void say_why_stopped(abort_reason why, const http_answer& answer) {
        switch (why) {
        case abort_reason::auth:
            // The token, the organisation or the proxy's credentials: the detail says which.
            spdlog::error("{} attempts in a row were refused ({}): stopping the batch",
                          config_.retry.auth_failures_to_abort, describe_failure(answer));
            break;
        case abort_reason::certificate:
            spdlog::error("{}: stopping the batch. If the server's certificate comes from a private CA, "
                          "give that CA with --ca-file PATH",
                          answer.detail);
            break;
        case abort_reason::fail_fast:
            spdlog::error("{} attempts in a row failed the same way before anything was sent ({}), with no "
                          "success in between: stopping the batch (--fail-fast)",
                          config_.retry.fail_fast, answer.detail);
            break;
        }
    }

    // The final record of a row that was tried: journal, report, failed-row log.
    void record_attempted(const row_result& r) {
        journal_.append(r);
        report_.row_finished(r);
        failed_rows_.row_ended(r, clock_type::now());
    }

    // The batch stopped before the row's next attempt left: its final record,
    // if it needs one (row_attempts::outcome_if_stopped).
    void record_stopped(worker& w, const row_attempts& row) {
        const auto result = row.outcome_if_stopped();
        if (!result) return;
        auto r = result_of(w.row.request, *result);
        r.attempts = row.attempts();
        const auto* last = row.last_failure();
        if (last && last->status != 0) {
            r.http_status = last->status;
            r.latency_ms = std::chrono::duration<double, std::milli>(last->elapsed).count();
        }
        w.error = !last ? std::string("stopped before it was sent")
                        : fmt::format("stopped before the next attempt; last attempt: {}", last->words);
        r.error = w.error;
        record_attempted(r);
    }

    // Goes to log lines and the journal: what the server chose to say is cleaned first.
    std::string describe_failure(const http_answer& answer) {
        if (answer.ec && answer.status != 0)
            return fmt::format("HTTP {}: {}", answer.status, clean_server_text(answer.detail, config_.client.token));
        if (answer.ec) return clean_server_text(answer.detail, config_.client.token);
        const auto message = parser_.error_message(answer.body);
        return message.empty()
                   ? fmt::format("HTTP {}", answer.status)
                   : fmt::format("HTTP {}: {}", answer.status, clean_server_text(message, config_.client.token));
    }

    void finish_row(worker& w, const http_answer& answer, outcome result, unsigned attempts,
                    std::string_view note = {}) {
        auto r = result_of(w.row.request, result);
        r.attempts = attempts;
        if (answer.status != 0) {
            // An answer came: its status is kept even when the rest was unusable.
            r.http_status = answer.status;
            r.latency_ms = std::chrono::duration<double, std::milli>(answer.elapsed).count();
        }
        if (result == outcome::created) {
            for (auto* field : {&w.chat.id, &w.chat.status, &w.chat.link, &w.chat.state, &w.chat.created_at})
                cap_chat_field(*field);
            r.chat_id = w.chat.id;
            r.chat_status = w.chat.status;
            r.link = w.chat.link;
            r.chat_state = w.chat.state;
            r.created_at = w.chat.created_at;
        } else {
            w.error = note.empty() ? describe_failure(answer)
                                   : fmt::format("{}; last attempt: {}", note, describe_failure(answer));
            r.error = w.error;
        }
        record_attempted(r);
    }

    void worker_exited(std::exception_ptr failure) {
        if (failure) {
            try {
                std::rethrow_exception(failure);
            } catch (const std::exception& e) {
                spdlog::error("a worker stopped: {}", e.what());
            }
            request_stop(stop_reason::fatal);
        }
        if (--active_workers_ > 0) return;
        journal_.append_run_end(exit_status());
        journal_.close();   // before the timers go: a failure here arms the drain timer
        signals_.cancel();
        deadline_timer_.cancel();
        drain_timer_.cancel();
        progress_timer_.cancel();
        metrics_timer_.cancel();
    }

    int finish() {
        failed_rows_.say_count(clock_type::now());
        report_.retries_so_far(scheduler_.retries());
        report_.finish();
        if (progress_) progress_->finish();
        const int status = exit_status();
        const auto summary =
            report_.summary({INVENT_DISPATCH_VERSION, journal_options_.input_identity, config_.base_url, status});
        write_summary_table(summary, *context_.out);
        if (config_.summary_path) {
            std::ofstream out(*config_.summary_path);
            write_summary_json(summary, out);
            if (!out) spdlog::error("{}: cannot write the summary", *config_.summary_path);
        }
        if (stop_ == stop_reason::deadline) spdlog::error("the --deadline passed: stopped the batch");
        if (config_.metrics_path) write_metrics(status);
        if (config_.report_html_path) {
            try {
                write_html_report_file({config_.results_path}, *config_.report_html_path, *context_.out);
            } catch (const journal_error& e) {
                spdlog::error("{}", e.what());
            }
        }
        return status;
    }

    // SPEC §7, from how the batch ended.
    int exit_status() const {
        switch (stop_) {
        case stop_reason::interrupt: return exit_sigint;
        case stop_reason::terminate: return exit_sigterm;
        case stop_reason::breaker:
        case stop_reason::retry_after:
        case stop_reason::deadline:
        case stop_reason::journal: return exit_aborted;
        case stop_reason::fatal: return fatal_input_ ? exit_usage : exit_aborted;
        case stop_reason::none: break;
        }
        const auto& counters = report_.counters();
        const auto& by = counters.by_outcome;
        const bool all_done = by[static_cast<int>(outcome::failed)] == 0 &&
                              by[static_cast<int>(outcome::invalid)] == 0 &&
                              by[static_cast<int>(outcome::unknown)] == 0 && counters.resumed_unknown == 0;
        return all_done ? exit_ok : exit_rows_not_created;
    }

    const dispatch_config& config_;
    const dispatch_context& context_;
    net::io_context io_{1};
    connection_pool pool_;
    scheduler scheduler_;
    journal_options journal_options_;
    journal_file journal_file_;   // locked from here to the end of the run
    resume_state resumed_;
    admission admission_;
    std::unique_ptr<row_source> rows_;
    journal_writer journal_;
    run_report report_;
    std::optional<progress_printer> progress_;
    response_parser parser_;   // one per thread: parsing never suspends
    failed_row_log failed_rows_;
    std::list<worker> workers_;   // stable addresses
    net::signal_set signals_;
    net::steady_timer deadline_timer_;
    net::steady_timer drain_timer_;
    net::steady_timer progress_timer_;
    net::steady_timer metrics_timer_;
    static constexpr std::chrono::seconds metrics_interval{10};
    bool metrics_failed_ = false;
    unsigned active_workers_ = 0;
    stop_reason stop_ = stop_reason::none;
    time_point recorded_pause_end_{};   // the last pause the journal has
    unsigned unsent_since_write_ = 0;   // rows read and not sent since their records were written
    bool fatal_input_ = false;
};

}   // namespace

int run_dispatch(const dispatch_config& config, const dispatch_context& context) {
    // Before the journal is opened: a refused input leaves no trace in it.
    if (config.strict && check_whole_input(config.input, config.defaults, *context.out) != 0) {
        spdlog::error("--strict: the input has invalid rows; nothing was sent");
        return exit_usage;
    }
    dispatcher d(config, context);
    return d.run();
}

}   // namespace invent_dispatch
