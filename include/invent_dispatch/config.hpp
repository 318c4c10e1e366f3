#pragma once
// The command line: flags > environment > config file > defaults, parsed and
// checked here into each command's params struct; no stage reads argv or getenv.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "invent_dispatch/contacts.hpp"
#include "invent_dispatch/dispatch_config.hpp"
#include "invent_dispatch/errors.hpp"
#include "invent_dispatch/journal_report.hpp"
#include "invent_dispatch/mock.hpp"

namespace invent_dispatch {

enum class command_kind { run, validate, contacts, report, mock, demo, help, version };

struct command_line {
    command_kind kind = command_kind::help;
    dispatch_config dispatch;   // run, validate; contacts: the API, token, TLS, rate and retries
    contacts_config contacts;   // contacts
    report_config report;   // report
    mock_config mock;   // mock
    std::string help_text;   // help: the usage text; version: "invent-dispatch X.Y.Z"
};

using environment = std::map<std::string, std::string>;

// Parses argv, the environment (INVENT_API_TOKEN, INVENT_BASE_URL,
// INVENT_ORG_ID, INVENT_SHARD) and the TOML file (--config PATH, else
// INVENT_CONFIG, else none), in that order of precedence, and
// checks the result (http:// and --insecure refused off loopback, shard
// bounds, ...). Throws usage_error with a message naming the flag, variable,
// or file and line.
command_line parse_command_line(int argc, const char* const argv[], const environment& env);

// "500ms", "30s", "2m", "1h", "1.5s"; a bare number is seconds. nullopt when malformed.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) noexcept;

// "8", "8/s", "8/sec", "480/min", "2/h" (decimals allowed) -> requests per
// second. nullopt when malformed, not positive or not finite.
std::optional<double> parse_rate(std::string_view text) noexcept;

// "K/N" with 0 <= K < N. nullopt when malformed or out of bounds.
std::optional<shard_spec> parse_shard(std::string_view text) noexcept;

}   // namespace invent_dispatch
