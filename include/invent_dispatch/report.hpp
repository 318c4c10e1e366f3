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
    // Values below 2^sub_bucket_bits are exact; above, each power of two is cut
    // into 2^(sub_bucket_bits - 1) equal buckets, so a bucket is at most 1/64 of
    // its value wide and its midpoint is within 0.8%.
    static constexpr unsigned sub_bucket_bits = 7;
    static constexpr std::size_t bucket_count =
        (std::size_t{1} << sub_bucket_bits) + (64 - sub_bucket_bits) * (std::size_t{1} << (sub_bucket_bits - 1));
    static std::size_t index_of(std::uint64_t micros) noexcept;
    static std::uint64_t midpoint_of(std::size_t index) noexcept;

    std::array<std::uint64_t, bucket_count> counts_{};
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
    // A Retry-After pause holds every request until then (the progress line shows it).
    std::chrono::steady_clock::time_point paused_until{};
};

class run_report {
public:
    run_report();
    // Each row is reported once, by one of these two. The HTTP status is
    // counted for rows that reached the wire (attempts > 0; 0 = no answer),
    // the latency for rows that got an answer.
    void row_finished(const row_result& result);
    void row_resumed(outcome previous);            // skipped because an earlier run finished it
    std::uint64_t rows_done() const noexcept;      // finished + resumed
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
    // Call often (e.g. every 100 ms); prints when due. The first tick starts
    // the clock that the rate and the ETA are measured against.
    void tick(std::chrono::steady_clock::time_point now);
    void finish();   // ends the live line with the final counts / prints a last status line

    static constexpr std::chrono::milliseconds terminal_interval{100};
    static constexpr std::chrono::seconds log_interval{10};

private:
    void print(std::chrono::steady_clock::time_point now);
    std::string status_line(std::chrono::steady_clock::time_point now) const;

    const run_report& report_;
    std::optional<std::uint64_t> total_;
    bool terminal_;
    std::ostream& out_;
    std::optional<std::chrono::steady_clock::time_point> started_;
    std::uint64_t requests_at_start_ = 0;
    std::uint64_t done_at_start_ = 0;
    std::chrono::steady_clock::time_point last_tick_{};
    std::chrono::steady_clock::time_point last_print_{};
};

} // namespace invent_dispatch
