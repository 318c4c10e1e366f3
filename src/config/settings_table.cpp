#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "invent_dispatch/logging.hpp"
#include "settings.hpp"

namespace invent_dispatch::config_detail {
namespace po = boost::program_options;

namespace {

// "trace, debug, info, warn, error or off"
std::string log_level_list() {
    std::string list;
    for (std::size_t i = 0; i < log_levels.size(); ++i)
        list += fmt::format("{}{}", i == 0 ? "" : i + 1 == log_levels.size() ? " or " : ", ", log_levels[i]);
    return list;
}

}   // namespace

const std::vector<setting>& dispatch_settings() {
    using k = value_kind;
    // The defaults shown in --help, and parsed as the lowest layer, are the
    // params structs' own member initialisers: one source for each.
    static const dispatch_config defaults;
    // clang-format off
    static const std::vector<setting> settings{
        {"format", k::text, "FMT", {}, "csv, tsv or jsonl (default: from the extension)"},
        {"delimiter", k::text, "C", {}, "CSV field delimiter, e.g. ';' (\\t or tab for tabs)"},
        {"map", k::list, "FIELD=COLUMN", {}, "read FIELD from COLUMN, e.g. contact_id=ContactID (repeatable, or comma-separated)"},
        {"org_id", k::text, "ID", defaults.defaults.org_id, "organisation for rows without one (c: the token's own); env INVENT_ORG_ID"},
        {"assistant_id", k::text, "ID", {}, "assistant for rows without one"},
        {"title", k::text, "TEMPLATE", {}, "title for rows without one; {{column}} is replaced"},
        {"message", k::text, "TEMPLATE", {}, "first message for rows without one; {{column}} is replaced"},
        {"results", k::text, "PATH", {}, "results journal (default: INPUT.results.jsonl, or INPUT.shard-K-of-N.results.jsonl with --shard)"},
        {"summary", k::text, "PATH", {}, "also write the summary as JSON here"},
        {"report_html", k::text, "PATH", {}, "write the HTML report of the journal here when the run ends"},
        {"metrics_file", k::text, "PATH", {}, "Prometheus text, rewritten every 10 s and at the end (textfile collector)"},
        {"base_url", k::text, "URL", defaults.base_url, "the API; env INVENT_BASE_URL"},
        {"token_file", k::text, "PATH", {}, "read the token from the first line of PATH (else env INVENT_API_TOKEN)"},
        {"ca_file", k::text, "PATH", {}, "trust this CA (PEM) as well as the system's"},
        {"insecure", k::boolean, nullptr, {}, "skip certificate checks (loopback only)"},
        {"proxy", k::text, "URL", {}, "reach the API through this http:// proxy (CONNECT), '' for none; env HTTPS_PROXY (HTTP_PROXY for http://)"},
        {"no_proxy", k::text, "HOSTS", {}, "hosts, domains, addresses or ranges (or *) reached without the proxy; env NO_PROXY"},
        {"concurrency", k::integer, "N", std::to_string(defaults.concurrency), "requests in flight, 1..10000"},
        {"rate", k::quantity, "R", {}, "requests per second: 8, 8/s or 480/min (default: 480/min, none on loopback); auto[:MAX] finds the rate the server sustains, up to MAX (default: 480/min against Invent, 50/s elsewhere)"},
        {"burst", k::integer, "B", fmt::format("{:g}", rate_limit{}.burst), "token bucket size for --rate"},
        {"max_attempts", k::integer, "N", std::to_string(defaults.retry.max_attempts), "attempts per row, retries included"},
        {"timeout", k::quantity, "DUR", format_duration(defaults.client.timeout), "per attempt: 500ms, 30s, 2m, 1h (bare number: seconds)"},
        {"deadline", k::quantity, "DUR", {}, "stop the whole batch after DUR (exit 3)"},
        {"drain_timeout", k::quantity, "DUR", format_duration(defaults.drain_timeout), "after SIGINT/SIGTERM or the deadline, wait this long for requests in flight"},
        {"max_retry_after", k::quantity, "DUR", format_duration(defaults.max_retry_after), "a Retry-After longer than this stops the batch (exit 3); under 1h"},
        {"auth_failures", k::integer, "N", std::to_string(defaults.retry.auth_failures_to_abort), "stop after N 401/403 in a row (exit 3)"},
        {"fail_fast", k::integer, "N", std::to_string(defaults.retry.fail_fast), "stop after N attempts in a row fail the same way before sending: DNS, refused, connect or TLS handshake (exit 3; 0: never)"},
        {"retry_unknown", k::boolean, nullptr, {}, "re-send rows an earlier run left unknown"},
        {"retry_ambiguous", k::boolean, nullptr, {}, "retry requests sent but not answered (may duplicate without server idempotency)"},
        {"allow_duplicates", k::boolean, nullptr, {}, "send rows whose key repeats in the input"},
        {"strict", k::boolean, nullptr, {}, "check the whole input first; send nothing if any row is invalid"},
        {"shard", k::text, "K/N", {}, "take only the rows whose key hashes to K of N; env INVENT_SHARD"},
        {"quiet", k::boolean, nullptr, {}, "no progress output (the summary is still printed)"},
        {"log_level", k::text, "LEVEL", defaults.log_level, log_level_list()},
        {"log_file", k::text, "PATH", {}, "also write the log to PATH"},
        {"seed", k::integer, "N", std::to_string(defaults.seed), "seed for backoff jitter (0: random)"},
    };
    // clang-format on
    return settings;
}

const setting* find_setting(std::string_view key) {
    for (const auto& s : dispatch_settings())
        if (s.key == key) return &s;
    return nullptr;
}

std::string flag_name(std::string_view key) {
    std::string flag(key);
    std::replace(flag.begin(), flag.end(), '_', '-');
    return flag;
}

namespace {

void add_config_flag(po::options_description& options) {
    options.add_options()("config", po::value<std::string>()->value_name("PATH"),
                          "TOML config file (else env INVENT_CONFIG); flags > environment > file > defaults");
}

void add_setting_flag(po::options_description& options, const setting& s) {
    const auto name = flag_name(s.key);
    if (s.kind == value_kind::boolean) {
        options.add_options()(name.c_str(), po::bool_switch(), s.help.c_str());
    } else if (s.kind == value_kind::list) {
        options.add_options()(
            name.c_str(), po::value<std::vector<std::string>>()->composing()->value_name(s.value_name), s.help.c_str());
    } else {
        auto* value = po::value<std::string>()->value_name(s.value_name);
        if (!s.default_text.empty()) value->default_value(s.default_text);
        options.add_options()(name.c_str(), value, s.help.c_str());
    }
}

}   // namespace

po::options_description dispatch_options() {
    po::options_description all("Options for run and validate", help_width, help_description_width);
    add_config_flag(all);
    for (const auto& s : dispatch_settings()) add_setting_flag(all, s);
    return all;
}

bool is_contacts_setting(std::string_view key) {
    static constexpr std::array<std::string_view, 13> shared{
        "org_id",       "base_url", "token_file", "ca_file",   "insecure", "rate", "burst",
        "max_attempts", "timeout",  "quiet",      "log_level", "log_file", "seed"};
    return std::find(shared.begin(), shared.end(), key) != shared.end();
}

po::options_description contacts_options() {
    // The heading names the command alone: the completion and the man page read it.
    // contacts also takes run's API, token, TLS, rate, retry and log options.
    po::options_description all("Options for contacts", help_width, help_description_width);
    all.add_options()("segment-id", po::value<std::string>()->value_name("ID"), "only the contacts in this segment")(
        "status", po::value<std::string>()->value_name("S"),
        "ALL, SUBSCRIBED, UNSUBSCRIBED, BLOCKED or AI_REPLIES_DISABLED")(
        "name", po::value<std::string>()->value_name("TEXT"), "only contacts whose name matches")(
        "email", po::value<std::string>()->value_name("TEXT"),
        "only contacts whose email matches")("out", po::value<std::string>()->value_name("PATH"),
                                             "write the rows here, whole or not at all (default: stdout)")(
        "format", po::value<std::string>()->value_name("FMT"),
        "csv or jsonl (default: jsonl for a .jsonl --out, else csv)")("include-unsubscribed", po::bool_switch(),
                                                                      "also list contacts who unsubscribed")(
        "include-blocked", po::bool_switch(), "also list blocked contacts");
    return all;
}

// The shared flags, parsed but not shown twice in --help.
po::options_description contacts_shared_options() {
    po::options_description shared;
    add_config_flag(shared);
    for (const auto& s : dispatch_settings())
        if (is_contacts_setting(s.key)) add_setting_flag(shared, s);
    return shared;
}

std::optional<std::string> env_value(const environment& env, const std::string& name) {
    if (auto found = env.find(name); found != env.end() && !found->second.empty()) return found->second;
    return std::nullopt;
}

po::variables_map parse_flags(const std::vector<std::string>& args, const po::options_description& visible,
                              const po::options_description& hidden,
                              const po::positional_options_description& positional) {
    po::options_description all;
    all.add(visible).add(hidden);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        throw usage_error(fmt::format("{} (invent-dispatch --help lists the options)", e.what()));
    }
    return vm;
}

}   // namespace invent_dispatch::config_detail
