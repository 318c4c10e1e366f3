#pragma once
// Internal to the config stage: every setting is first gathered as text from
// one layer (built-in defaults, config file, environment, flags), so a single
// set of parsers turns the winning text into typed values and names where it
// came from when it is wrong.
#include <boost/program_options.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "invent_dispatch/config.hpp"
#include "invent_dispatch/trim.hpp"

namespace invent_dispatch::config_detail {

// How a setting's value is written: decides the flag's value type and which
// TOML types the file may use for it.
enum class value_kind {
    text,   // TOML string
    integer,   // TOML integer
    quantity,   // TOML string or number (rates, durations)
    boolean,   // a switch on the command line, TOML boolean in the file
    list,   // repeatable; TOML array of strings (or a table for map)
};

struct setting {
    const char* key;   // TOML key; the flag is the same with '-' for '_'
    value_kind kind;
    const char* value_name;   // shown in --help ("N", "PATH"); nullptr for switches
    std::string default_text;   // the built-in default, in the flag's syntax; empty: none
    std::string help;
};

// The run/validate settings, in --help order.
const std::vector<setting>& dispatch_settings();
const setting* find_setting(std::string_view key);

std::string flag_name(std::string_view key);   // "max_attempts" -> "max-attempts"

// --help fits 80 columns, with room for the longest flag and its value name
// and two spaces before its description (help2man reads those as the gap).
inline constexpr unsigned help_width = 80;
inline constexpr unsigned help_description_width = 44;

// The flags of run/validate, from the table, and of mock, for parsing and --help.
boost::program_options::options_description dispatch_options();
boost::program_options::options_description mock_options();

// The settings `contacts` shares with run (the API, token, TLS, rate,
// retries, logging), and its flags: its own and those.
bool is_contacts_setting(std::string_view key);
boost::program_options::options_description contacts_options();
boost::program_options::options_description contacts_shared_options();

// argv (after the command) -> values; po's own errors become usage_error.
boost::program_options::variables_map
parse_flags(const std::vector<std::string>& args, const boost::program_options::options_description& visible,
            const boost::program_options::options_description& hidden,
            const boost::program_options::positional_options_description& positional);

// A variable that is set and not empty.
std::optional<std::string> env_value(const environment& env, const std::string& name);

mock_config parse_mock_flags(const std::vector<std::string>& args, const environment& env);

boost::program_options::options_description report_options();
report_config parse_report_flags(const std::vector<std::string>& args);

// One setting's value as given in one layer, and where: "--concurrency",
// "INVENT_ORG_ID" or "invent-dispatch.toml:3: concurrency".
struct setting_value {
    std::vector<std::string> texts;   // one element unless the setting is a list
    std::string origin;
    const std::string& text() const { return texts.front(); }
};
using setting_layer = std::map<std::string, setting_value, std::less<>>;

// Reads a config file into a layer; throws usage_error naming the file, the
// line and the key for an unknown key, a wrong type or a token.
setting_layer read_config_file(const std::string& path);

// Value parsers: throw usage_error prefixed with origin.
std::uint64_t parse_integer(const setting_value& v, std::uint64_t min, std::uint64_t max);
double parse_number(const std::string& text, const std::string& origin);
double parse_probability(const std::string& text, const std::string& origin);
double parse_rate_per_second(const std::string& text, const std::string& origin);
std::chrono::milliseconds parse_duration_value(const setting_value& v);
// The other way: 30000ms -> "30s", 600000ms -> "10m" (the largest whole unit).
std::string format_duration(std::chrono::milliseconds value);

// "a,b" and repeated flags alike -> {"a", "b"}, each trimmed (whitespace), empties dropped.
std::vector<std::string> split_list(const std::vector<std::string>& texts);

}   // namespace invent_dispatch::config_detail
