#include <boost/json.hpp>
#include <fmt/format.h>

#include <cmath>
#include <numeric>

#include "invent_dispatch/report.hpp"

namespace invent_dispatch {
namespace {

// The final outcomes in the order the summary lists them; `sending` is never final.
constexpr std::array<outcome, 5> final_outcomes{outcome::created, outcome::failed, outcome::invalid,
                                                outcome::skipped, outcome::unknown};

struct latency_summary {
    double p50, p90, p99, max;
};

// Boost.JSON writes the shortest text that reads back as the same double, so
// rounding here keeps "84.2" from showing as 8.420000000000001E1.
double rounded(double value, double step) { return std::round(value / step) * step; }

std::optional<latency_summary> latency_ms(const latency_histogram& h) {
    if (h.count() == 0) return std::nullopt;
    const auto ms = [](std::uint64_t micros) { return static_cast<double>(micros) / 1000.0; };
    return latency_summary{ms(h.percentile(50)), ms(h.percentile(90)), ms(h.percentile(99)), ms(h.max())};
}

double per_second(std::uint64_t count, std::chrono::duration<double> elapsed) {
    return elapsed.count() > 0 ? static_cast<double>(count) / elapsed.count() : 0.0;
}

std::uint64_t finished_rows(const run_counters& c) {
    return std::accumulate(final_outcomes.begin(), final_outcomes.end(), std::uint64_t{0},
                           [&](std::uint64_t sum, outcome o) { return sum + c.by_outcome[static_cast<std::size_t>(o)]; });
}

} // namespace

run_report::run_report() : started_(std::chrono::steady_clock::now()) {}

void run_report::row_finished(const row_result& result) {
    ++counters_.by_outcome[static_cast<std::size_t>(result.result)];
    if (result.attempts > 0) ++counters_.by_status[result.http_status];
    if (result.http_status != 0)
        latencies_.record(static_cast<std::uint64_t>(std::max(0.0, result.latency_ms) * 1000.0 + 0.5));
}

// Which outcome the earlier run recorded does not change what this run did: skip.
void run_report::row_resumed(outcome /*previous*/) { ++counters_.resumed_skips; }

std::uint64_t run_report::rows_done() const noexcept { return finished_rows(counters_) + counters_.resumed_skips; }

std::chrono::duration<double> run_report::elapsed() const noexcept {
    return finished_.value_or(std::chrono::steady_clock::now()) - started_;
}

void run_report::finish() {
    if (!finished_) finished_ = std::chrono::steady_clock::now();
}

void run_report::write_summary_table(std::ostream& out) const {
    const auto row = [&](std::string_view label, auto value) { out << fmt::format("  {:<18}{:>10}\n", label, value); };
    const auto wall = elapsed();
    out << "invent-dispatch summary\n";
    row("rows", finished_rows(counters_));
    for (const auto o : final_outcomes) row(fmt::format("  {}", to_string(o)), counters_.by_outcome[static_cast<std::size_t>(o)]);
    if (counters_.resumed_skips) row("  done earlier", counters_.resumed_skips);
    if (!counters_.by_status.empty()) {
        out << "  HTTP status\n";
        for (const auto& [status, count] : counters_.by_status)
            row(status ? fmt::format("  {}", status) : std::string("  no answer"), count);
    }
    row("requests", counters_.requests);
    row("requests/s", fmt::format("{:.1f}", per_second(counters_.requests, wall)));
    row("retries", counters_.retries);
    row("stale reconnects", counters_.stale_reconnects);
    if (const auto l = latency_ms(latencies_))
        out << fmt::format("  {:<18}p50 {:.1f}  p90 {:.1f}  p99 {:.1f}  max {:.1f}\n", "latency ms", l->p50, l->p90, l->p99, l->max);
    if (const auto r = rate_.summarize(finished_.value_or(std::chrono::steady_clock::now())))
        out << fmt::format("  {:<18}min {:.1f}  median {:.1f}  final {:.1f}\n", "auto rate /s", r->min, r->median, r->final);
    row("wall time", fmt::format("{:.2f} s", wall.count()));
}

void run_report::write_summary_json(std::ostream& out) const {
    namespace json = boost::json;
    const auto wall = elapsed();
    json::object outcomes;
    for (const auto o : final_outcomes) outcomes[to_string(o)] = counters_.by_outcome[static_cast<std::size_t>(o)];
    json::object statuses;
    for (const auto& [status, count] : counters_.by_status) statuses[std::to_string(status)] = count;
    json::value latency = nullptr;
    if (const auto l = latency_ms(latencies_))
        latency = json::object{{"p50", rounded(l->p50, 0.001)}, {"p90", rounded(l->p90, 0.001)},
                               {"p99", rounded(l->p99, 0.001)}, {"max", rounded(l->max, 0.001)}};
    json::value rate = nullptr;   // per second, with --rate auto
    if (const auto r = rate_.summarize(finished_.value_or(std::chrono::steady_clock::now())))
        rate = json::object{{"min", rounded(r->min, 0.01)}, {"median", rounded(r->median, 0.01)},
                            {"final", rounded(r->final, 0.01)}};

    out << json::serialize(json::object{
               {"outcomes", std::move(outcomes)},
               {"http_status", std::move(statuses)},
               {"rows", finished_rows(counters_)},
               {"retries", counters_.retries},
               {"stale_reconnects", counters_.stale_reconnects},
               {"requests", counters_.requests},
               {"requests_per_second", rounded(per_second(counters_.requests, wall), 0.01)},
               {"latency_ms", std::move(latency)},
               {"rate", std::move(rate)},
               {"wall_seconds", rounded(wall.count(), 0.001)},
               {"resumed_skips", counters_.resumed_skips},
           })
        << '\n';
}

} // namespace invent_dispatch
