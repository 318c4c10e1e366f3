#pragma once
// `run`'s params: every knob of a dispatch, with its default (the command
// line fills it; no stage reads argv or getenv).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "invent_dispatch/admission.hpp"
#include "invent_dispatch/client_options.hpp"
#include "invent_dispatch/rows.hpp"
#include "invent_dispatch/scheduler.hpp"

namespace invent_dispatch {

// Invent documents 500 requests a minute per IP: the default rate against it
// (and --rate auto's MAX there) keeps a margin under that.
inline constexpr double invent_default_rate = 480.0 / 60.0;
// --rate auto's MAX against any other server.
inline constexpr double adaptive_default_max = 50;

struct dispatch_config {
    input_config input;
    row_defaults defaults;
    std::string results_path;   // default: INPUT.results.jsonl
    std::optional<std::string> summary_path;
    std::optional<std::string> report_html_path;   // the journal's HTML report, at the end
    std::optional<std::string> metrics_path;   // Prometheus text, during the run and at its end
    std::string base_url = "https://api.useinvent.com";
    client_options client;   // the API (from base_url), token, TLS, proxy, timeout
    unsigned concurrency = 32;
    std::optional<rate_limit> rate;   // default 480/min (burst 1) unless loopback;
        // adaptive with --rate auto[:MAX]
    retry_config retry;
    std::optional<std::chrono::milliseconds> deadline;
    std::chrono::milliseconds drain_timeout = std::chrono::seconds(10);
    // A Retry-After longer than this stops the batch (exit 3) instead of pausing it.
    std::chrono::milliseconds max_retry_after = std::chrono::minutes(10);
    admission_config admission;
    bool strict = false;
    bool quiet = false;
    std::string log_level = "info";
    std::optional<std::string> log_file;
    std::uint64_t seed = 0;   // 0: random (backoff jitter)
};

}   // namespace invent_dispatch
