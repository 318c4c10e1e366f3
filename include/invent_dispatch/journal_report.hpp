#pragma once
// `invent-dispatch report` (SPEC §9): one or more journals read once, line by
// line, into tallies whose size does not depend on the journals' length
// (save one 8-byte slot per row for its final outcome), and the summary, the
// HTML report and the metrics made from them.
#include <array>
#include <cstdint>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "invent_dispatch/chat_request.hpp"
#include "invent_dispatch/metrics.hpp"
#include "invent_dispatch/report.hpp"

namespace invent_dispatch {

// One run of the batch, from its run_start and run_end events.
struct journal_run {
    std::string journal;
    std::optional<std::int64_t> start_ms;   // Unix milliseconds
    std::optional<std::int64_t> end_ms;
    std::optional<int> exit_code;
    std::string version;
    std::string base_url;
    std::string shard;   // "K/N", empty when none
    std::optional<std::int64_t> pid;
};

// A Retry-After pause of the whole dispatcher.
struct rate_limit_pause {
    std::int64_t at_ms = 0;
    std::int64_t until_ms = 0;
    int status = 0;
};

struct slow_row {
    double latency_ms = 0;
    std::uint64_t line = 0;   // the input's
    std::string key;
    outcome result = outcome::failed;
    int http_status = 0;
    std::string at;
};

// Rows finished in one interval of the time axis.
struct time_bucket {
    std::array<std::uint64_t, 5> outcomes{};
    latency_histogram latencies;
};

struct journal_file_facts {
    std::string path;
    std::string input;
    std::uint64_t records = 0;   // row records, `sending` included
    std::uint64_t unreadable_lines = 0;   // skipped (a torn last line while a run writes, say)
};

// `invent-dispatch report JOURNAL... [--json PATH] [--html PATH] [--metrics PATH]`.
struct report_config {
    std::vector<std::string> journals;
    std::optional<std::string> json_path;
    std::optional<std::string> html_path;
    std::optional<std::string> metrics_path;
};

class batch_report {
public:
    // Reads the journals in order. Throws journal_error naming the file for
    // one that cannot be read or is not a journal; a line that is not a
    // record is skipped, counted and said once per file on `warnings`.
    batch_report(const std::vector<std::string>& journals, std::ostream& warnings);
    ~batch_report();
    batch_report(const batch_report&) = delete;
    batch_report& operator=(const batch_report&) = delete;

    batch_summary summary() const;
    metrics_snapshot metrics() const;

    // What the HTML report draws.
    const std::vector<journal_file_facts>& journals() const noexcept;
    const std::vector<journal_run>& runs() const noexcept;
    std::uint64_t runs_seen() const noexcept;   // runs() keeps the first max_runs_kept
    const std::vector<rate_limit_pause>& pauses() const noexcept;
    const std::vector<time_bucket>& buckets() const noexcept;   // empty without timestamps
    std::int64_t buckets_origin_ms() const noexcept;
    std::int64_t bucket_width_ms() const noexcept;
    std::uint64_t rows_without_time() const noexcept;   // final records without `at`
    const std::map<unsigned, std::uint64_t>& attempts_per_row() const noexcept;
    const std::vector<slow_row>& slowest() const noexcept;   // slowest first
    std::vector<error_reason> top_errors(std::size_t n) const;
    std::uint64_t final_records() const noexcept;   // may exceed rows: a re-run's records

    static constexpr std::size_t max_buckets = 60;
    static constexpr std::size_t slowest_kept = 10;
    static constexpr std::size_t max_runs_kept = 500;
    static constexpr std::size_t max_pauses_kept = 5000;
    // The bucket widths to choose from, in milliseconds: the smallest that
    // covers the span in max_buckets.
    static std::int64_t bucket_width_for(std::int64_t span_ms) noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// The self-contained HTML report: inline CSS and SVG, no script, nothing
// fetched.
void write_html_report(const batch_report& report, std::ostream& out);

// Writes the HTML report of `journals` to `path` (through a temporary file
// and a rename); throws journal_error when it cannot.
void write_html_report_file(const std::vector<std::string>& journals, const std::string& path, std::ostream& warnings);

// The `report` command: the summary on `out`, the files asked for; returns
// the exit status (0, or 2 with the reason on `err`).
int run_report_command(const report_config& config, std::ostream& out, std::ostream& err);

}   // namespace invent_dispatch
