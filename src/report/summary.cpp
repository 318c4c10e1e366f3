// The summary (SPEC §3) as a table for stderr and as JSON, whether it comes
// from a run or from journals.
#include <boost/json.hpp>
#include <fmt/format.h>

#include <cmath>
#include <numeric>

#include "invent_dispatch/report.hpp"

namespace invent_dispatch {
namespace {

// The final outcomes in the order the summary lists them; `sending` is never final.
constexpr std::array<outcome, 5> final_outcomes{outcome::created, outcome::failed, outcome::invalid, outcome::skipped,
                                                outcome::unknown};

struct latency_summary {
    double p50, p90, p99, max;
};

// Boost.JSON writes the shortest text that reads back as the same double, so
// rounding here keeps "84.2" from showing as 8.420000000000001E1.
double rounded(double value, double step) {
    return std::round(value / step) * step;
}

std::optional<latency_summary> latency_ms(const latency_histogram& h) {
    if (h.count() == 0) return std::nullopt;
    const auto ms = [](std::uint64_t micros) { return static_cast<double>(micros) / 1000.0; };
    return latency_summary{ms(h.percentile(50)), ms(h.percentile(90)), ms(h.percentile(99)), ms(h.max())};
}

double per_second(std::uint64_t count, double seconds) {
    return seconds > 0 ? static_cast<double>(count) / seconds : 0.0;
}

std::uint64_t count_of(const batch_summary& s, outcome o) {
    return s.outcomes[static_cast<std::size_t>(o)];
}

// An error reason on one line of the table: control characters and excess length cut.
std::string one_line(std::string_view text, std::size_t width) {
    std::string line;
    for (const char c : text) line += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
    if (line.size() > width) {
        line.resize(width - 3);
        while (!line.empty() && (static_cast<unsigned char>(line.back()) & 0xC0) == 0x80) line.pop_back();
        if (!line.empty() && static_cast<unsigned char>(line.back()) >= 0xC0) line.pop_back();
        line += "...";
    }
    return line;
}

boost::json::value text_or_null(const std::string& text) {
    if (text.empty()) return nullptr;
    return boost::json::string(text);
}

}   // namespace

std::uint64_t batch_summary::rows() const noexcept {
    return std::accumulate(outcomes.begin(), outcomes.end(), std::uint64_t{0});
}

void write_summary_table(const batch_summary& s, std::ostream& out) {
    const auto row = [&](std::string_view label, auto value) { out << fmt::format("  {:<18}{:>10}\n", label, value); };
    out << "invent-dispatch summary\n";
    row("rows", s.rows());
    for (const auto o : final_outcomes) row(fmt::format("  {}", to_string(o)), count_of(s, o));
    // A re-run: what earlier runs finished, by outcome, so an unknown row never reads as done.
    if (s.created_earlier) row("  created earlier", s.created_earlier);
    if (s.unknown_earlier) row("  unknown earlier", s.unknown_earlier);
    if (!s.by_status.empty()) {
        out << "  HTTP status\n";
        for (const auto& [status, count] : s.by_status)
            row(status ? fmt::format("  {}", status) : std::string("  no answer"), count);
    }
    row("requests", s.requests);
    row("requests/s", fmt::format("{:.1f}", per_second(s.requests, s.wall_seconds)));
    row("retries", s.retries);
    if (s.stale_reconnects) row("stale reconnects", *s.stale_reconnects);
    if (s.rate_limit_pauses) row("rate-limit pauses", s.rate_limit_pauses);
    if (const auto l = latency_ms(s.latencies))
        out << fmt::format("  {:<18}p50 {:.1f}  p90 {:.1f}  p99 {:.1f}  max {:.1f}\n", "latency ms", l->p50, l->p90,
                           l->p99, l->max);
    if (s.rate)
        out << fmt::format("  {:<18}min {:.1f}  median {:.1f}  final {:.1f}\n", "auto rate /s", s.rate->min,
                           s.rate->median, s.rate->final);
    row("wall time", fmt::format("{:.2f} s", s.wall_seconds));
    if (!s.top_errors.empty()) {
        out << "  top errors\n";
        for (const auto& e : s.top_errors)
            out << fmt::format("  {:>10}  {}\n", e.overcount ? fmt::format("~{}", e.count) : std::to_string(e.count),
                               one_line(e.reason, 100));
    }
    if (s.unknown_earlier)
        out << fmt::format("note: {} row{} an earlier run left unknown (the chat may exist) {} not sent again; "
                           "--retry-unknown re-sends them\n",
                           s.unknown_earlier, s.unknown_earlier == 1 ? "" : "s",
                           s.unknown_earlier == 1 ? "was" : "were");
}

void write_summary_json(const batch_summary& s, std::ostream& out) {
    namespace json = boost::json;
    json::object outcomes;
    for (const auto o : final_outcomes) outcomes[to_string(o)] = count_of(s, o);
    json::object statuses;
    for (const auto& [status, count] : s.by_status) statuses[std::to_string(status)] = count;
    json::value latency = nullptr;
    if (const auto l = latency_ms(s.latencies))
        latency = json::object{{"p50", rounded(l->p50, 0.001)},
                               {"p90", rounded(l->p90, 0.001)},
                               {"p99", rounded(l->p99, 0.001)},
                               {"max", rounded(l->max, 0.001)}};
    json::value rate = nullptr;   // per second, with --rate auto
    if (s.rate)
        rate = json::object{{"min", rounded(s.rate->min, 0.01)},
                            {"median", rounded(s.rate->median, 0.01)},
                            {"final", rounded(s.rate->final, 0.01)}};
    json::array top_errors;
    for (const auto& e : s.top_errors) {
        json::array examples;
        for (const auto& x : e.examples) examples.emplace_back(x);
        json::object entry{{"reason", e.reason}, {"count", e.count}, {"examples", std::move(examples)}};
        if (e.overcount) entry["overcount"] = e.overcount;
        top_errors.emplace_back(std::move(entry));
    }
    json::object summary{
        {"outcomes", std::move(outcomes)},
        {"created_earlier", s.created_earlier},
        {"unknown_earlier", s.unknown_earlier},
        {"http_status", std::move(statuses)},
        {"rows", s.rows()},
        {"retries", s.retries},
        {"requests", s.requests},
        {"requests_per_second", rounded(per_second(s.requests, s.wall_seconds), 0.01)},
        {"rate_limit_pauses", s.rate_limit_pauses},
        {"latency_ms", std::move(latency)},
        {"rate", std::move(rate)},
        {"wall_seconds", rounded(s.wall_seconds, 0.001)},
        {"top_errors", std::move(top_errors)},
        {"started_at", text_or_null(s.started_at)},
        {"finished_at", text_or_null(s.finished_at)},
        {"version", text_or_null(s.version)},
        {"input", text_or_null(s.input)},
        {"base_url", text_or_null(s.base_url)},
        {"exit_code", s.exit_code ? json::value(*s.exit_code) : json::value(nullptr)},
    };
    if (s.stale_reconnects) summary["stale_reconnects"] = *s.stale_reconnects;
    out << json::serialize(summary) << '\n';
}

}   // namespace invent_dispatch
