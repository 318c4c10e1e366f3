#pragma once
// The report (SPEC §3): counters, latency histogram, progress line, summary.
#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>

#include "invent_dispatch/chat_request.hpp"

namespace invent_dispatch {

// HDR-style log-linear histogram of latencies in microseconds: fixed memory,
// ~1% relative precision, from 1 us to ~1 hour.
class latency_histogram {
public:
    void record(std::uint64_t micros) noexcept;
    std::uint64_t count() const noexcept;
    std::uint64_t max() const noexcept;
    std::uint64_t percentile(double p) const noexcept;   // p in [0, 100]
private:
    // implementation-defined buckets (fixed size array)
    struct buckets;
    std::array<std::uint64_t, 64 * 128> counts_{};
    std::uint64_t total_ = 0;
    std::uint64_t max_ = 0;
};

struct run_counters {
    std::array<std::uint64_t, 6> by_outcome{};   // indexed by outcome
    std::map<int, std::uint64_t> by_status;      // final HTTP status of each finished row
    std::uint64_t retries = 0;
    std::uint64_t stale_reconnects = 0;
    std::uint64_t requests = 0;                   // attempts that reached the wire
    std::uint64_t resumed_skips = 0;              // rows skipped because an earlier run finished them
    std::uint64_t in_flight = 0;
};

class run_report {
public:
    run_report();
    void row_finished(const row_result& result);   // counts and latency
    void row_resumed(outcome previous);            // skipped because an earlier run finished it
    run_counters& counters() noexcept { return counters_; }
    const run_counters& counters() const noexcept { return counters_; }
    const latency_histogram& latencies() const noexcept { return latencies_; }
    std::chrono::duration<double> elapsed() const noexcept;
    void finish();                                  // stops the wall clock

    // The table on stderr, and the same as JSON (--summary PATH).
    void write_summary_table(std::ostream& out) const;
    void write_summary_json(std::ostream& out) const;

private:
    run_counters counters_;
    latency_histogram latencies_;
    std::chrono::steady_clock::time_point started_;
    std::optional<std::chrono::steady_clock::time_point> finished_;
};

// Progress on stderr: on a terminal one live line redrawn in place (done/total
// when known, rate, ok/failed, in flight, ETA); otherwise a status line every
// interval (10 s) for cron and CI logs.
class progress_printer {
public:
    progress_printer(const run_report& report, std::optional<std::uint64_t> total,
                     bool terminal, std::ostream& out);
    // Call often (e.g. every 100 ms); prints when due.
    void tick(std::chrono::steady_clock::time_point now);
    void finish();   // clears the live line / prints a last status line
private:
    const run_report& report_;
    std::optional<std::uint64_t> total_;
    bool terminal_;
    std::ostream& out_;
    std::chrono::steady_clock::time_point last_print_{};
    bool printed_ = false;
};

} // namespace invent_dispatch
