#include <fmt/format.h>

#include "invent_dispatch/report.hpp"

namespace invent_dispatch {
namespace {

std::string clock_text(std::chrono::seconds s) {
    const auto total = s.count();
    if (total >= 3600) return fmt::format("{}:{:02}:{:02}", total / 3600, total / 60 % 60, total % 60);
    return fmt::format("{}:{:02}", total / 60, total % 60);
}

}   // namespace

progress_printer::progress_printer(const run_report& report, std::optional<std::uint64_t> total, bool terminal,
                                   std::ostream& out)
    : report_(report),
      total_(total),
      terminal_(terminal),
      out_(out) {}

void progress_printer::tick(std::chrono::steady_clock::time_point now) {
    last_tick_ = now;
    if (!started_) {
        started_ = now;
        requests_at_start_ = report_.counters().requests;
        done_at_start_ = report_.rows_done();
        last_print_ = now;
        // A terminal shows the line at once; a log gets its first line after one interval.
        if (terminal_) print(now);
        return;
    }
    const std::chrono::steady_clock::duration interval = terminal_
                                                             ? std::chrono::steady_clock::duration(terminal_interval)
                                                             : std::chrono::steady_clock::duration(log_interval);
    if (now - last_print_ >= interval) print(now);
}

void progress_printer::finish() {
    if (!started_) return;
    print(last_tick_);
    if (terminal_) out_ << '\n' << std::flush;
}

void progress_printer::print(std::chrono::steady_clock::time_point now) {
    // Terminal: redraw in place and clear what a longer earlier line left behind.
    if (terminal_)
        out_ << '\r' << status_line(now) << "\x1b[K";
    else
        out_ << status_line(now) << '\n';
    out_.flush();
    last_print_ = now;
}

std::string progress_printer::status_line(std::chrono::steady_clock::time_point now) const {
    const auto& c = report_.counters();
    const auto done = report_.rows_done();
    const std::chrono::duration<double> elapsed = now - *started_;
    const auto ok = c.by_outcome[static_cast<std::size_t>(outcome::created)];
    // "failed" here is every row that did not end well; the summary splits them.
    const auto bad = c.by_outcome[static_cast<std::size_t>(outcome::failed)] +
                     c.by_outcome[static_cast<std::size_t>(outcome::invalid)] +
                     c.by_outcome[static_cast<std::size_t>(outcome::unknown)];
    const double request_rate =
        elapsed.count() > 0 ? static_cast<double>(c.requests - requests_at_start_) / elapsed.count() : 0.0;

    std::string line = total_ && *total_ > 0
                           ? fmt::format("{}/{} ({:.1f}%)", done, *total_,
                                         100.0 * static_cast<double>(done) / static_cast<double>(*total_))
                           : fmt::format("{}", done);
    line += fmt::format(" | {:.0f} req/s | ok {} failed {} | in flight {}", request_rate, ok, bad, c.in_flight);
    if (const auto rate = report_.rate().current()) line += fmt::format(" | auto {:.1f}/s", *rate);
    const auto done_here = done - done_at_start_;
    if (total_ && done_here > 0 && done < *total_ && elapsed.count() > 0) {
        const double rows_per_second = static_cast<double>(done_here) / elapsed.count();
        const auto eta = std::chrono::seconds(
            static_cast<std::int64_t>(static_cast<double>(*total_ - done) / rows_per_second + 0.5));
        line += fmt::format(" | ETA {}", clock_text(eta));
    }
    if (now < c.paused_until)
        line += fmt::format(" | paused by Retry-After, {} left",
                            clock_text(std::chrono::ceil<std::chrono::seconds>(c.paused_until - now)));
    return line;
}

}   // namespace invent_dispatch
