#pragma once
// The report (SPEC §3): counters, latency histogram, progress line, summary.
#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "invent_dispatch/chat_request.hpp"
#include "invent_dispatch/utc_time.hpp"

namespace invent_dispatch {

// HDR-style log-linear histogram of latencies in microseconds: fixed memory,
// ~1% relative precision, from 1 us to ~1 hour.
class latency_histogram {
public:
    void record(std::uint64_t micros) noexcept;
    std::uint64_t count() const noexcept;
    std::uint64_t max() const noexcept;
    std::uint64_t percentile(double p) const noexcept;   // p in [0, 100]
    // Samples at or below `micros`, to the bucket's precision (for histogram charts).
    std::uint64_t count_at_most(std::uint64_t micros) const noexcept;
    void merge(const latency_histogram& other) noexcept;

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

// Request durations in the fixed buckets of the Prometheus histogram
// invent_dispatch_request_duration_seconds (SPEC §9): exact counts, since the
// bounds must not move from one scrape to the next.
class duration_buckets {
public:
    static constexpr std::array<double, 14> bounds_seconds{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                           1,     2.5,  5,     10,   30,  60,   120};
    void record(std::uint64_t micros) noexcept;
    // Samples at or below bounds_seconds[i] (cumulative, as Prometheus wants them).
    std::uint64_t cumulative(std::size_t i) const noexcept;
    std::uint64_t count() const noexcept { return count_; }
    double sum_seconds() const noexcept { return static_cast<double>(sum_micros_) / 1e6; }

private:
    std::array<std::uint64_t, bounds_seconds.size()> counts_{};   // per bucket, not cumulative
    std::uint64_t count_ = 0;
    std::uint64_t sum_micros_ = 0;
};

// The most frequent error reasons, in bounded memory: at most `capacity`
// reasons are tracked; a new one past that replaces the least frequent
// (Metwally's space-saving), whose count it inherits as a possible
// overcount. Exact while there are at most `capacity` distinct reasons.
struct error_reason {
    std::string reason;
    std::uint64_t count = 0;
    std::uint64_t overcount = 0;   // count may include up to this many other rows
    std::vector<std::string> examples;   // "file:line key" (or "line N key"), the first few
};

// Failed, invalid and unknown rows give error reasons; a skipped duplicate is no error.
constexpr bool counts_as_error(outcome o) noexcept {
    return o == outcome::failed || o == outcome::invalid || o == outcome::unknown;
}

class error_tally {
public:
    explicit error_tally(std::size_t capacity = 256) : capacity_(capacity) {}
    void add(std::string_view reason, std::string_view example);
    std::vector<error_reason> top(std::size_t n) const;   // most frequent first
    std::uint64_t total() const noexcept { return total_; }

    static constexpr std::size_t examples_kept = 3;

private:
    std::size_t capacity_;
    std::uint64_t total_ = 0;
    std::unordered_map<std::string, error_reason> reasons_;
};

// The adaptive rate over a run (--rate auto), in requests per second.
struct rate_figures {
    double min, median, final;
};

// What the summary says (SPEC §3), from a run or from journals (§9).
struct batch_summary {
    std::array<std::uint64_t, 5> outcomes{};   // final outcomes, indexed by outcome
    std::uint64_t created_earlier = 0;   // a re-run: rows an earlier run finished
    std::uint64_t unknown_earlier = 0;   // not sent again: the table says --retry-unknown would
    std::map<int, std::uint64_t> by_status;   // final HTTP status of each row; 0 = no answer
    std::uint64_t requests = 0;
    std::uint64_t retries = 0;
    std::optional<std::uint64_t> stale_reconnects;   // known to a run only
    std::uint64_t rate_limit_pauses = 0;
    latency_histogram latencies;
    double wall_seconds = 0;
    std::vector<error_reason> top_errors;
    std::string started_at;   // RFC 3339 UTC, empty when unknown
    std::string finished_at;
    std::string version;
    std::string input;
    std::string base_url;
    std::optional<int> exit_code;
    std::optional<rate_figures> rate;   // with --rate auto (a run only)

    std::uint64_t rows() const noexcept;   // rows with a final outcome here
    static constexpr std::size_t top_errors_shown = 5;
};

// The table on stderr, and the same as JSON (--summary PATH, report --json).
void write_summary_table(const batch_summary& summary, std::ostream& out);
void write_summary_json(const batch_summary& summary, std::ostream& out);

struct run_counters {
    std::array<std::uint64_t, 6> by_outcome{};   // indexed by outcome
    std::map<int, std::uint64_t> by_status;   // final HTTP status of each finished row
    std::uint64_t retries = 0;
    std::uint64_t stale_reconnects = 0;
    std::uint64_t requests = 0;   // attempts that reached the wire
    std::uint64_t resumed_skips = 0;   // rows skipped because an earlier run finished them
    std::uint64_t resumed_created = 0;   //   of which created
    std::uint64_t resumed_unknown = 0;   //   of which unknown (not re-sent without --retry-unknown)
    std::uint64_t rate_limit_pauses = 0;   // Retry-After pauses of the whole dispatcher
    std::uint64_t in_flight = 0;
    // A Retry-After pause holds every request until then (the progress line shows it).
    std::chrono::steady_clock::time_point paused_until{};
};

// The adaptive rate over a run (--rate auto): each rate in force and for how
// long, for the summary's min, median (weighted by time) and final.
class rate_history {
public:
    void set(double per_second, std::chrono::steady_clock::time_point now);
    std::optional<double> current() const noexcept;
    using figures = rate_figures;
    // nullopt when no rate was ever set (a fixed rate, or none).
    std::optional<figures> summarize(std::chrono::steady_clock::time_point now) const;

private:
    struct span {
        double per_second;
        std::chrono::steady_clock::duration lasted;
    };
    std::vector<span> ended_;
    std::optional<double> current_;
    std::chrono::steady_clock::time_point since_{};
};

class run_report {
public:
    run_report();
    // Each row is reported once, by one of these two. The HTTP status is
    // counted for rows that reached the wire (attempts > 0; 0 = no answer),
    // the latency for rows that got an answer.
    void row_finished(const row_result& result);
    void row_resumed(outcome previous);   // skipped because an earlier run finished it (created or unknown)
    std::uint64_t rows_done() const noexcept;   // finished + resumed
    // Each attempt as it goes (the progress line, the metrics and the summary
    // read the counters): started (counted, in flight) and finished (its
    // answer or its failure came); withdrawn when a stop closed its connection
    // before a byte of it left, so it does not count after all.
    void request_started() noexcept;
    void request_finished() noexcept;
    void request_withdrawn() noexcept;
    void stale_reconnects_seen(std::uint64_t reconnects) noexcept;
    void rate_limit_paused(std::chrono::steady_clock::time_point until) noexcept;   // a new dispatcher-wide pause
    void retries_so_far(std::uint64_t retries) noexcept;
    const run_counters& counters() const noexcept { return counters_; }
    const latency_histogram& latencies() const noexcept { return latencies_; }
    const duration_buckets& durations() const noexcept { return durations_; }
    std::chrono::duration<double> elapsed() const noexcept;
    std::chrono::system_clock::time_point started_at() const noexcept { return started_at_; }
    std::optional<std::chrono::system_clock::time_point> finished_at() const noexcept { return finished_at_; }
    void finish();   // stops the wall clock
    // With --rate auto: the rate in force from now on, and its history.
    void rate_changed(double per_second, std::chrono::steady_clock::time_point now) { rate_.set(per_second, now); }
    const rate_history& rate() const noexcept { return rate_; }

    // The run's facts the counters do not know, for the summary.
    struct run_facts {
        std::string version;
        std::string input;
        std::string base_url;
        std::optional<int> exit_code;
    };
    batch_summary summary(const run_facts& facts) const;

private:
    run_counters counters_;
    latency_histogram latencies_;
    rate_history rate_;
    duration_buckets durations_;
    error_tally errors_;
    std::chrono::steady_clock::time_point started_;
    std::optional<std::chrono::steady_clock::time_point> finished_;
    std::chrono::system_clock::time_point started_at_;
    std::optional<std::chrono::system_clock::time_point> finished_at_;
};

// Progress on stderr: on a terminal one live line redrawn in place (done/total
// when known, rate, ok/failed, in flight, the adaptive rate in force, ETA); otherwise a status line every
// interval (10 s) for cron and CI logs.
class progress_printer {
public:
    progress_printer(const run_report& report, std::optional<std::uint64_t> total, bool terminal, std::ostream& out);
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

}   // namespace invent_dispatch
