#pragma once
// One struct with every knob (flags > environment > config file > defaults),
// filled here and handed to the stages; no stage reads argv or getenv.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "invent_dispatch/admission.hpp"
#include "invent_dispatch/journal_report.hpp"
#include "invent_dispatch/mock.hpp"
#include "invent_dispatch/proxy.hpp"
#include "invent_dispatch/rows.hpp"
#include "invent_dispatch/scheduler.hpp"

namespace invent_dispatch {

// Where the API is: parsed from the base URL with Boost.URL.
struct api_endpoint {
    bool tls = true;
    std::string host;        // without brackets for IPv6
    std::string port;        // "443" by default for https
    std::string base_path;   // "" or "/v1" (no trailing slash)
    bool loopback = false;   // 127.0.0.0/8, ::1, localhost
};

// Invent documents 500 requests a minute per IP: the default rate against it
// (and --rate auto's MAX there) keeps a margin under that.
inline constexpr double invent_default_rate = 480.0 / 60.0;
// --rate auto's MAX against any other server.
inline constexpr double adaptive_default_max = 50;

// Whether the base URL's host is Invent's API (api.useinvent.com or another
// host under useinvent.com).
bool is_invent_host(const api_endpoint& endpoint);

struct dispatch_config {
    input_config input;
    row_defaults defaults;
    std::string results_path;                      // default: INPUT.results.jsonl
    std::optional<std::string> summary_path;
    std::optional<std::string> report_html_path;   // the journal's HTML report, at the end
    std::optional<std::string> metrics_path;       // Prometheus text, during the run and at its end
    std::string base_url = "https://api.useinvent.com";
    api_endpoint endpoint;                          // from base_url
    std::string token;                              // INVENT_API_TOKEN or --token-file, never a flag
    std::optional<std::string> ca_file;
    bool insecure = false;                          // loopback only
    std::optional<proxy_endpoint> proxy;            // --proxy, HTTPS_PROXY...; none when NO_PROXY names the host
    unsigned concurrency = 32;
    std::optional<rate_limit> rate;                 // default 480/min (burst 1) unless loopback;
                                                    // adaptive with --rate auto[:MAX]
    retry_config retry;
    std::chrono::milliseconds timeout{30'000};
    std::optional<std::chrono::milliseconds> deadline;
    std::chrono::milliseconds drain_timeout{10'000};
    // A Retry-After longer than this stops the batch (exit 3) instead of pausing it.
    std::chrono::milliseconds max_retry_after{600'000};
    admission_config admission;
    bool strict = false;
    bool quiet = false;
    std::string log_level = "info";
    std::optional<std::string> log_file;
    std::uint64_t seed = 0;                         // 0: random (backoff jitter)
};

enum class contacts_format { csv, jsonl };

// `contacts` (SPEC §8). The API's filters; an empty one is not sent.
struct contacts_query {
    std::string segment_id;
    std::string status;   // ALL, SUBSCRIBED, UNSUBSCRIBED, BLOCKED, AI_REPLIES_DISABLED
    std::string name;
    std::string email;
};

struct contacts_config {
    contacts_query query;
    bool include_unsubscribed = false;
    bool include_blocked = false;
    std::optional<std::string> out_path;   // none: rows go to stdout
    contacts_format format = contacts_format::csv;
};

enum class command_kind { run, validate, contacts, report, mock, demo, help, version };

struct command_line {
    command_kind kind = command_kind::help;
    dispatch_config dispatch;   // run, validate; contacts: the API, token, TLS, rate and retries
    contacts_config contacts;   // contacts
    report_config report;       // report
    mock_config mock;           // mock
    std::string help_text;      // help: the usage text; version: "invent-dispatch X.Y.Z"
};

// Bad flags, config or environment: exit 2, nothing sent.
class usage_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

using environment = std::map<std::string, std::string>;

// Parses argv, the environment (INVENT_API_TOKEN, INVENT_BASE_URL,
// INVENT_ORG_ID, INVENT_SHARD) and the TOML file (--config PATH, else
// INVENT_CONFIG, else none), in that order of precedence, and
// checks the result (http:// and --insecure refused off loopback, shard
// bounds, ...). Throws usage_error with a message naming the flag, variable,
// or file and line.
command_line parse_command_line(int argc, const char* const argv[], const environment& env);

api_endpoint parse_endpoint(const std::string& base_url);   // throws usage_error

// One line for the start-up log: the settings that shape a run, never the token.
std::string describe(const dispatch_config& config);

// "500ms", "30s", "2m", "1h", "1.5s"; a bare number is seconds. nullopt when malformed.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) noexcept;

// "K/N" with 0 <= K < N. nullopt when malformed or out of bounds.
std::optional<shard_spec> parse_shard(std::string_view text) noexcept;

} // namespace invent_dispatch
