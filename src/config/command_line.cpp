#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <initializer_list>
#include <sstream>

#include "invent_dispatch/logging.hpp"
#include "invent_dispatch/retry_after.hpp"
#include "invent_dispatch/row_builder.hpp"
#include "invent_dispatch/version.hpp"
#include "settings.hpp"

namespace invent_dispatch {
namespace po = boost::program_options;
using namespace config_detail;

namespace {

constexpr const char* token_flag_refusal =
    "pass the token in INVENT_API_TOKEN or --token-file, never as a flag (it would show in ps)";

// Settings from every layer, lowest first: defaults, file, environment, flags.
class layered_settings {
public:
    std::array<setting_layer, 4> layers;
    enum { defaults, file, env, flags };

    const setting_value* find(std::string_view key) const {
        for (auto layer = layers.rbegin(); layer != layers.rend(); ++layer)
            if (auto found = layer->find(key); found != layer->end()) return &found->second;
        return nullptr;
    }
    bool is_on(std::string_view key) const {
        const auto* v = find(key);
        return v && v->text() == "true";
    }
};

std::string version_text() {
    return "invent-dispatch " INVENT_DISPATCH_VERSION;
}

std::string usage_text() {
    std::ostringstream out;
    // The shape help2man reads: Usage/or lines (the man page's synopsis), a
    // one-line description, then sections of indented items.
    out << "Usage: invent-dispatch run [options] INPUT\n"
           "  or:  invent-dispatch validate [options] INPUT\n"
           "  or:  invent-dispatch contacts [options]\n"
           "  or:  invent-dispatch report [options] JOURNAL...\n"
           "  or:  invent-dispatch mock [options]\n"
           "  or:  invent-dispatch demo\n"
           "  or:  invent-dispatch help | --help | --version\n"
           "Start Invent chats for many contacts, fast and safely.\n\n"
           "Commands:\n"
           "  run       dispatch INPUT (a CSV, TSV or JSONL file, or - for stdin)\n"
           "  validate  check INPUT, send nothing\n"
           "  contacts  list contacts from Invent as dispatch input\n"
           "  report    summary, HTML report and metrics from JOURNAL files\n"
           "  mock      the bundled mock Invent API\n"
           "  demo      zero-config: a segment listed from the mock, dispatched\n"
           "  help      this text (--version: the version)\n\n"
        << dispatch_options() << "\n"
        << contacts_options() << "\n"
        << report_options() << "\n"
        << mock_options() << "\n"
        << "Environment:\n"
           "  INVENT_API_TOKEN  the API token (never a flag: it would show in ps)\n"
           "  INVENT_BASE_URL   the API (default https://api.useinvent.com)\n"
           "  INVENT_ORG_ID     default organisation (default c)\n"
           "  INVENT_SHARD      K/N, as --shard\n"
           "  INVENT_CONFIG     config file, as --config\n"
           "  HTTPS_PROXY       the proxy for https:// (or https_proxy), as --proxy\n"
           "  HTTP_PROXY        the proxy for http:// on loopback (or http_proxy)\n"
           "  NO_PROXY          hosts reached without the proxy (or no_proxy), as --no-proxy\n\n"
           "Exit codes:\n"
           "  0        every row created or skipped\n"
           "  1        some rows failed, invalid or unknown\n"
           "  2        usage, config, unreadable input or --strict with an invalid row\n"
           "           (nothing sent)\n"
           "  3        aborted (auth, deadline, Retry-After over the cap)\n"
           "  130/143  after SIGINT/SIGTERM\n";
    return out.str();
}

bool wants_help(const std::vector<std::string>& args) {
    return std::any_of(args.begin(), args.end(), [](const auto& a) { return a == "--help" || a == "-h"; });
}

setting_layer flag_layer(const po::variables_map& vm, bool defaulted) {
    setting_layer layer;
    for (const auto& s : dispatch_settings()) {
        const auto name = flag_name(s.key);
        if (!vm.count(name) || vm[name].defaulted() != defaulted) continue;
        setting_value value{{}, defaulted ? "default " + name : "--" + name};
        if (s.kind == config_detail::value_kind::boolean)
            value.texts.emplace_back(vm[name].as<bool>() ? "true" : "false");
        else if (s.kind == config_detail::value_kind::list)
            value.texts = vm[name].as<std::vector<std::string>>();
        else
            value.texts.push_back(vm[name].as<std::string>());
        layer.emplace(s.key, std::move(value));
    }
    return layer;
}

setting_layer env_layer(const environment& env) {
    setting_layer layer;
    for (const auto& [name, key] : {std::pair{"INVENT_BASE_URL", "base_url"}, std::pair{"INVENT_ORG_ID", "org_id"},
                                    std::pair{"INVENT_SHARD", "shard"}})
        if (auto value = env_value(env, name)) layer.emplace(key, setting_value{{*value}, name});
    return layer;
}

// The token goes into a header line as is: a CR or LF in it would end the
// line and start a header of the sender's choosing. Surrounding whitespace, a
// trailing line break and a UTF-8 BOM (editors on Windows write one) are
// what files and variables add by accident; any other control character is
// refused. The message says where and which byte, never the token.
std::string clean_token(std::string_view text, const std::string& origin) {
    constexpr std::string_view bom = "\xEF\xBB\xBF";
    if (text.substr(0, bom.size()) == bom) text.remove_prefix(bom.size());
    text = trim(text, whitespace);
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto byte = static_cast<unsigned char>(text[i]);
        // C0 and DEL, and C1 (U+0080..U+009F, in UTF-8 0xC2 0x80..0x9F).
        const bool c1 = byte == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                        static_cast<unsigned char>(text[i + 1]) <= 0x9F;
        if (byte < 0x20 || byte == 0x7F || c1)
            throw usage_error(fmt::format("{}: the token holds a control character (byte {} is 0x{:02X}); refused",
                                          origin, i + 1, c1 ? static_cast<unsigned char>(text[i + 1]) : byte));
    }
    return std::string(text);
}

std::string read_token_file(const setting_value& v) {
    std::ifstream in(v.text());
    std::string line;
    if (!in || !std::getline(in, line))
        throw usage_error(fmt::format("{}: cannot read token file '{}'", v.origin, v.text()));
    auto token = clean_token(line, fmt::format("{} '{}'", v.origin, v.text()));
    if (token.empty()) throw usage_error(fmt::format("{}: the first line of '{}' is empty", v.origin, v.text()));
    return token;
}

// --token-file beats INVENT_API_TOKEN, which beats token_file in the config file.
std::string resolve_token(const layered_settings& settings, const environment& env) {
    if (auto it = settings.layers[layered_settings::flags].find("token_file");
        it != settings.layers[layered_settings::flags].end())
        return read_token_file(it->second);
    if (auto token = env_value(env, "INVENT_API_TOKEN")) return clean_token(*token, "INVENT_API_TOKEN");
    if (const auto* file = settings.find("token_file")) return read_token_file(*file);
    return {};
}

// The proxy for the API's host: --proxy, else the variable curl reads for the
// API's scheme (lower case first), else the config file's; none when it is
// empty or NO_PROXY (or no_proxy, from the same layers) names the host.
std::optional<proxy_endpoint> resolve_proxy(const layered_settings& settings, const environment& env,
                                            const api_endpoint& endpoint) {
    const auto pick = [&](const char* key,
                          std::initializer_list<const char*> variables) -> std::optional<setting_value> {
        if (auto it = settings.layers[layered_settings::flags].find(key);
            it != settings.layers[layered_settings::flags].end())
            return it->second;
        for (const char* name : variables)
            if (auto value = env_value(env, name)) return setting_value{{*value}, name};
        if (auto it = settings.layers[layered_settings::file].find(key);
            it != settings.layers[layered_settings::file].end())
            return it->second;
        return std::nullopt;
    };
    const auto proxy =
        endpoint.tls ? pick("proxy", {"https_proxy", "HTTPS_PROXY"}) : pick("proxy", {"http_proxy", "HTTP_PROXY"});
    if (!proxy || proxy->text().empty()) return std::nullopt;
    if (const auto no_proxy = pick("no_proxy", {"no_proxy", "NO_PROXY"});
        no_proxy && no_proxy_matches(no_proxy->text(), endpoint.host))
        return std::nullopt;
    try {
        return parse_proxy_url(proxy->text());
    } catch (const std::invalid_argument& e) {
        // Never the URL itself: it may hold the proxy's password.
        throw usage_error(fmt::format("{}: unusable proxy URL: {}", proxy->origin, e.what()));
    }
}

input_format parse_format(const setting_value& v) {
    const auto& text = v.text();
    if (text == "csv") return input_format::csv;
    if (text == "tsv") return input_format::tsv;
    if (text == "jsonl" || text == "ndjson") return input_format::jsonl;
    throw usage_error(fmt::format("{}: unknown format '{}' (csv, tsv or jsonl)", v.origin, text));
}

char parse_delimiter(const setting_value& v) {
    const auto& text = v.text();
    if (text == "\\t" || text == "tab" || text == "\t") return '\t';
    if (text.size() != 1 || text == "\"" || text == "\n" || text == "\r")
        throw usage_error(fmt::format(
            "{}: the delimiter must be one character other than a quote or line break, got '{}'", v.origin, text));
    return text.front();
}

std::vector<std::pair<std::string, std::string>> parse_field_map(const setting_value& v) {
    std::vector<std::pair<std::string, std::string>> map;
    for (const auto& item : split_list(v.texts)) {
        const auto equals = item.find('=');
        const auto field = std::string(trim(std::string_view(item).substr(0, equals), whitespace));
        const auto column = equals == std::string::npos
                                ? std::string()
                                : std::string(trim(std::string_view(item).substr(equals + 1), whitespace));
        if (column.empty()) throw usage_error(fmt::format("{}: expected FIELD=COLUMN, got '{}'", v.origin, item));
        if (!parse_known_field(field))
            throw usage_error(
                fmt::format("{}: '{}' is not a field ({})", v.origin, field, fmt::join(known_field_names, ", ")));
        if (std::any_of(map.begin(), map.end(), [&](const auto& m) { return m.first == field; }))
            throw usage_error(fmt::format("{}: '{}' is mapped twice", v.origin, field));
        map.emplace_back(field, column);
    }
    return map;
}

std::string parse_log_level(const setting_value& v) {
    if (std::find(log_levels.begin(), log_levels.end(), v.text()) == log_levels.end())
        throw usage_error(
            fmt::format("{}: unknown log level '{}' ({})", v.origin, v.text(), fmt::join(log_levels, ", ")));
    return v.text();
}

void refuse_plain_off_loopback(const dispatch_config& config) {
    if (config.client.endpoint.loopback) return;
    const char* what = !config.client.endpoint.tls ? "plain http" : config.client.insecure ? "--insecure" : nullptr;
    if (what)
        throw usage_error(fmt::format("refusing {} to {}: only loopback hosts may use http:// or --insecure", what,
                                      config.client.endpoint.host));
}

// Every setting's winning text -> typed values, then the checks across settings.
dispatch_config build_dispatch_config(command_kind kind, const layered_settings& s, const std::string& input,
                                      const environment& env) {
    dispatch_config config;
    config.input.path = input;
    if (const auto* v = s.find("format")) config.input.format = parse_format(*v);
    if (const auto* v = s.find("delimiter")) config.input.delimiter = parse_delimiter(*v);
    if (const auto* v = s.find("map")) config.input.field_map = parse_field_map(*v);

    if (const auto* v = s.find("org_id")) config.defaults.org_id = v->text();
    if (const auto* v = s.find("assistant_id")) config.defaults.assistant_id = v->text();
    if (const auto* v = s.find("title")) config.defaults.title = v->text();
    if (const auto* v = s.find("message")) config.defaults.message = v->text();

    if (const auto* v = s.find("summary")) config.summary_path = v->text();
    if (const auto* v = s.find("report_html")) config.report_html_path = v->text();
    if (const auto* v = s.find("metrics_file")) config.metrics_path = v->text();
    if (const auto* v = s.find("ca_file")) config.client.ca_file = v->text();
    config.client.insecure = s.is_on("insecure");

    if (const auto* v = s.find("concurrency")) config.concurrency = static_cast<unsigned>(parse_integer(*v, 1, 10'000));
    const auto* burst = s.find("burst");
    const double burst_size = burst ? static_cast<double>(parse_integer(*burst, 1, 1'000'000)) : 1.0;
    // --rate auto without MAX: MAX depends on the host, known below.
    bool adaptive_max_unset = false;
    if (const auto* v = s.find("rate")) {
        const std::string_view text = trim(v->text(), whitespace);
        if (text == "auto") {
            config.rate = rate_limit{adaptive_default_max, burst_size, true};
            adaptive_max_unset = true;
        } else if (text.starts_with("auto:")) {
            config.rate = rate_limit{parse_rate_per_second(std::string(text.substr(5)), v->origin), burst_size, true};
        } else {
            config.rate = rate_limit{parse_rate_per_second(v->text(), v->origin), burst_size};
        }
    }
    if (const auto* v = s.find("max_attempts"))
        config.retry.max_attempts = static_cast<unsigned>(parse_integer(*v, 1, 100));
    if (const auto* v = s.find("auth_failures"))
        config.retry.auth_failures_to_abort = static_cast<unsigned>(parse_integer(*v, 1, 1'000'000));
    if (const auto* v = s.find("fail_fast"))
        config.retry.fail_fast = static_cast<unsigned>(parse_integer(*v, 0, 1'000'000));
    config.retry.retry_ambiguous = s.is_on("retry_ambiguous");
    if (const auto* v = s.find("timeout")) config.client.timeout = parse_duration_value(*v);
    if (config.client.timeout.count() == 0) throw usage_error("timeout: must be more than 0");
    if (const auto* v = s.find("deadline")) config.deadline = parse_duration_value(*v);
    if (const auto* v = s.find("drain_timeout")) config.drain_timeout = parse_duration_value(*v);
    if (const auto* v = s.find("max_retry_after")) {
        config.max_retry_after = parse_duration_value(*v);
        // A Retry-After is cut to max_retry_after (retry_after.hpp) when read: a
        // cap at or above it could never act (a longer one would read as equal).
        if (config.max_retry_after >= invent_dispatch::max_retry_after)
            throw usage_error(fmt::format(
                "{}: must be less than {} s", v->origin,
                std::chrono::duration_cast<std::chrono::seconds>(invent_dispatch::max_retry_after).count()));
    }

    config.admission.retry_unknown = s.is_on("retry_unknown");
    config.admission.allow_duplicates = s.is_on("allow_duplicates");
    if (const auto* v = s.find("shard")) {
        config.admission.shard = parse_shard(v->text());
        if (!config.admission.shard)
            throw usage_error(fmt::format("{}: expected K/N with 0 <= K < N, got '{}'", v->origin, v->text()));
    }
    // Each shard gets its own default journal, so shards on one machine never share one.
    const auto* results = s.find("results");
    const auto shard_suffix = config.admission.shard ? fmt::format(".shard-{}-of-{}", config.admission.shard->index,
                                                                   config.admission.shard->count)
                                                     : std::string();
    config.results_path =
        results ? results->text() : (input == "-" ? "stdin" : input) + shard_suffix + ".results.jsonl";
    config.strict = s.is_on("strict");
    config.quiet = s.is_on("quiet");
    if (const auto* v = s.find("log_level")) config.log_level = parse_log_level(*v);
    if (const auto* v = s.find("log_file")) config.log_file = v->text();
    if (const auto* v = s.find("seed")) config.seed = parse_integer(*v, 0, UINT64_MAX);

    // validate sends nothing: it needs neither the API nor a token.
    if (kind == command_kind::run) {
        if (const auto* v = s.find("base_url")) config.base_url = v->text();
        config.client.endpoint = parse_endpoint(config.base_url);
        refuse_plain_off_loopback(config);
        // Invent allows 500 requests a minute per IP: stay under it unless told otherwise.
        if (!config.rate && !config.client.endpoint.loopback) config.rate = rate_limit{invent_default_rate, burst_size};
        if (adaptive_max_unset && is_invent_host(config.client.endpoint)) config.rate->per_second = invent_default_rate;
        config.client.proxy = resolve_proxy(s, env, config.client.endpoint);
        config.client.token = resolve_token(s, env);
        if (config.client.token.empty())
            throw usage_error("no API token: set INVENT_API_TOKEN or pass --token-file PATH");
    }
    return config;
}

command_line parse_dispatch(command_kind kind, const std::vector<std::string>& args, const environment& env) {
    po::options_description hidden;
    hidden.add_options()("input", po::value<std::vector<std::string>>())("token", po::value<std::string>());
    po::positional_options_description positional;
    positional.add("input", -1);
    const auto vm = parse_flags(args, dispatch_options(), hidden, positional);
    if (vm.count("token")) throw usage_error(token_flag_refusal);

    const auto inputs = vm.count("input") ? vm["input"].as<std::vector<std::string>>() : std::vector<std::string>{};
    const char* command = kind == command_kind::run ? "run" : "validate";
    if (inputs.empty()) throw usage_error(fmt::format("missing INPUT: invent-dispatch {} [options] INPUT", command));
    if (inputs.size() > 1) throw usage_error(fmt::format("one INPUT only, got '{}' and '{}'", inputs[0], inputs[1]));

    layered_settings settings;
    settings.layers[layered_settings::defaults] = flag_layer(vm, true);
    if (vm.count("config"))
        settings.layers[layered_settings::file] = read_config_file(vm["config"].as<std::string>());
    else if (auto path = env_value(env, "INVENT_CONFIG"))
        settings.layers[layered_settings::file] = read_config_file(*path);
    settings.layers[layered_settings::env] = env_layer(env);
    settings.layers[layered_settings::flags] = flag_layer(vm, false);

    command_line result;
    result.kind = kind;
    result.dispatch = build_dispatch_config(kind, settings, inputs[0], env);
    return result;
}

// A layer with only the settings `contacts` shares with run: a config file
// written for run (title, shard, ...) serves contacts as it is.
setting_layer contacts_part(setting_layer layer) {
    std::erase_if(layer, [](const auto& entry) { return !is_contacts_setting(entry.first); });
    return layer;
}

std::string parse_status(const po::variables_map& vm) {
    static constexpr std::array<std::string_view, 5> statuses{"ALL", "SUBSCRIBED", "UNSUBSCRIBED", "BLOCKED",
                                                              "AI_REPLIES_DISABLED"};
    std::string status = vm["status"].as<std::string>();
    for (auto& c : status) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (std::find(statuses.begin(), statuses.end(), status) == statuses.end())
        throw usage_error(fmt::format("--status: expected ALL, SUBSCRIBED, UNSUBSCRIBED, BLOCKED or "
                                      "AI_REPLIES_DISABLED, got '{}'",
                                      vm["status"].as<std::string>()));
    return status;
}

command_line parse_contacts(const std::vector<std::string>& args, const environment& env) {
    po::options_description hidden = contacts_shared_options();
    hidden.add_options()("token", po::value<std::string>())("extra", po::value<std::vector<std::string>>());
    po::positional_options_description positional;
    positional.add("extra", -1);
    const auto vm = parse_flags(args, contacts_options(), hidden, positional);
    if (vm.count("token")) throw usage_error(token_flag_refusal);
    if (vm.count("extra"))
        throw usage_error(
            fmt::format("contacts takes no INPUT, got '{}'", vm["extra"].as<std::vector<std::string>>()[0]));

    contacts_config contacts;
    const auto text = [&](const char* name, std::string& into) {
        if (vm.count(name)) into = vm[name].as<std::string>();
    };
    text("segment-id", contacts.query.segment_id);
    text("name", contacts.query.name);
    text("email", contacts.query.email);
    if (vm.count("status")) contacts.query.status = parse_status(vm);
    if (vm.count("out")) {
        contacts.out_path = vm["out"].as<std::string>();
        if (contacts.out_path->empty() || contacts.out_path->back() == '/')
            throw usage_error(fmt::format("--out: expected a file path, got '{}'", *contacts.out_path));
        if (contacts.out_path->ends_with(".jsonl") || contacts.out_path->ends_with(".ndjson"))
            contacts.format = contacts_format::jsonl;
    }
    if (vm.count("format")) {
        const auto& format = vm["format"].as<std::string>();
        if (format == "csv")
            contacts.format = contacts_format::csv;
        else if (format == "jsonl" || format == "ndjson")
            contacts.format = contacts_format::jsonl;
        else
            throw usage_error(fmt::format("--format: expected csv or jsonl, got '{}'", format));
    }
    contacts.include_unsubscribed = vm["include-unsubscribed"].as<bool>();
    contacts.include_blocked = vm["include-blocked"].as<bool>();

    layered_settings settings;
    settings.layers[layered_settings::defaults] = flag_layer(vm, true);
    if (vm.count("config"))
        settings.layers[layered_settings::file] = contacts_part(read_config_file(vm["config"].as<std::string>()));
    else if (auto path = env_value(env, "INVENT_CONFIG"))
        settings.layers[layered_settings::file] = contacts_part(read_config_file(*path));
    settings.layers[layered_settings::env] = contacts_part(env_layer(env));
    settings.layers[layered_settings::flags] = flag_layer(vm, false);

    command_line result;
    result.kind = command_kind::contacts;
    // As run reads them: the same endpoint checks, token, and default rate.
    result.dispatch = build_dispatch_config(command_kind::run, settings, "-", env);
    result.contacts = std::move(contacts);
    return result;
}

}   // namespace

command_line parse_command_line(int argc, const char* const argv[], const environment& env) {
    command_line result;
    const std::vector<std::string> args(argv + std::min(argc, 2), argv + argc);
    const std::string command = argc > 1 ? argv[1] : "help";

    if (command == "--version") {
        result.kind = command_kind::version;
        result.help_text = version_text();
        return result;
    }
    if (command == "help" || command == "--help" || command == "-h" || wants_help(args)) {
        result.kind = command_kind::help;
        result.help_text = usage_text();
        return result;
    }
    if (command == "run") return parse_dispatch(command_kind::run, args, env);
    if (command == "validate") return parse_dispatch(command_kind::validate, args, env);
    if (command == "contacts") return parse_contacts(args, env);
    if (command == "report") {
        result.kind = command_kind::report;
        result.report = parse_report_flags(args);
        return result;
    }
    if (command == "mock") {
        result.kind = command_kind::mock;
        result.mock = parse_mock_flags(args, env);
        return result;
    }
    if (command == "demo") {
        if (!args.empty()) throw usage_error(fmt::format("demo takes no options, got '{}'", args.front()));
        result.kind = command_kind::demo;
        return result;
    }
    throw usage_error(
        fmt::format("unknown command '{}': run, validate, contacts, report, mock, demo or help", command));
}

}   // namespace invent_dispatch
