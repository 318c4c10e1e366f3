#pragma once
// Prometheus text (SPEC §9) for the node_exporter textfile collector: the
// series of a run, or of journals, written whole or not at all.
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "invent_dispatch/report.hpp"

namespace invent_dispatch {

struct metrics_snapshot {
    std::string input;   // the `input` label of every series
    std::array<std::uint64_t, 5> rows_by_outcome{};   // final outcomes, indexed by outcome
    std::map<int, std::uint64_t> requests_by_status;   // each row's last request; 0 = no answer
    std::uint64_t retries = 0;
    duration_buckets durations;
    std::uint64_t in_flight = 0;
    std::uint64_t rate_limit_pauses = 0;
    std::optional<double> rate_per_second;   // the rate in force (fixed, or --rate auto's); none without
    std::optional<double> run_start_seconds;   // Unix time
    std::optional<double> run_end_seconds;   // absent while the run goes on
    std::optional<int> exit_code;   // likewise
};

// The exposition text: HELP and TYPE for every family, label values escaped.
std::string prometheus_text(const metrics_snapshot& metrics);

// Writes `text` to a temporary file in the same directory, flushes it to disk
// and renames it over `path`, so a reader sees the old file or the new one,
// never a part. The temporary file is removed when anything fails.
std::error_code write_file_atomically(const std::string& path, std::string_view text);

}   // namespace invent_dispatch
