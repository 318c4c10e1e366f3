#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <regex>
#include <sstream>

#include "invent_dispatch/config.hpp"
#include "invent_dispatch/version.hpp"
#include "support/files.hpp"

using namespace invent_dispatch;
using namespace std::chrono_literals;

namespace {

command_line parse(std::vector<std::string> args, const environment& env = {}) {
    args.insert(args.begin(), "invent-dispatch");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    return parse_command_line(static_cast<int>(argv.size()), argv.data(), env);
}

// A run needs a token; most tests are about something else.
const environment token_env{{"INVENT_API_TOKEN", "secret-token"}};

dispatch_config run(std::vector<std::string> flags, environment env = token_env) {
    flags.insert(flags.begin(), "run");
    flags.push_back("contacts.csv");
    return parse(flags, env).dispatch;
}

// The usage_error's message, or "" when nothing was thrown.
std::string usage_message(const std::function<void()>& f) {
    try {
        f();
    } catch (const usage_error& e) {
        return e.what();
    }
    return "";
}

// Pairs have no operator<<: compare them as "first=second" text.
template <typename A, typename B>
std::string pairs_text(const std::vector<std::pair<A, B>>& pairs) {
    std::ostringstream out;
    for (const auto& [a, b] : pairs) out << a << '=' << b << ';';
    return out.str();
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

using test_support::temp_dir;

}   // namespace

BOOST_AUTO_TEST_SUITE(config)

BOOST_FIXTURE_TEST_CASE(built_in_defaults, temp_dir) {
    const auto c = run({});
    BOOST_TEST(c.concurrency == 32u);
    BOOST_TEST(c.defaults.org_id == "c");
    BOOST_TEST(c.base_url == "https://api.useinvent.com");
    BOOST_TEST(c.client.endpoint.host == "api.useinvent.com");
    BOOST_TEST(c.client.endpoint.port == "443");
    BOOST_TEST(c.client.token == "secret-token");
    BOOST_TEST(c.results_path == "contacts.csv.results.jsonl");
    BOOST_TEST(c.client.timeout.count() == 30'000);
    BOOST_TEST(c.drain_timeout.count() == 10'000);
    BOOST_TEST(!c.deadline);
    BOOST_TEST(c.retry.max_attempts == 5u);
    BOOST_TEST(c.retry.auth_failures_to_abort == 3u);
    BOOST_TEST(c.log_level == "info");
    BOOST_TEST(!c.input.format);
    BOOST_TEST(!c.admission.shard);
    // Against the real API the default keeps under its 500/min limit.
    BOOST_REQUIRE(c.rate);
    BOOST_TEST(c.rate->per_second == 8.0);
    BOOST_TEST(c.rate->burst == 1.0);
}

BOOST_FIXTURE_TEST_CASE(file_beats_defaults, temp_dir) {
    const auto file =
        write("a.toml", "concurrency = 64\norg_id = \"org_file\"\nbase_url = \"https://file.example.com\"\n");
    const auto c = run({"--config", file});
    BOOST_TEST(c.concurrency == 64u);
    BOOST_TEST(c.defaults.org_id == "org_file");
    BOOST_TEST(c.client.endpoint.host == "file.example.com");
}

BOOST_FIXTURE_TEST_CASE(environment_beats_file, temp_dir) {
    const auto file =
        write("a.toml", "concurrency = 64\norg_id = \"org_file\"\nbase_url = \"https://file.example.com\"\n");
    auto env = token_env;
    env["INVENT_CONFIG"] = file;   // the file comes from the environment too
    env["INVENT_ORG_ID"] = "org_env";
    env["INVENT_BASE_URL"] = "https://env.example.com/v1/";
    const auto c = run({}, env);
    BOOST_TEST(c.concurrency == 64u);   // no variable for it: the file's value stands
    BOOST_TEST(c.defaults.org_id == "org_env");
    BOOST_TEST(c.client.endpoint.host == "env.example.com");
    BOOST_TEST(c.client.endpoint.base_path == "/v1");
}

BOOST_FIXTURE_TEST_CASE(flags_beat_environment, temp_dir) {
    const auto file = write("a.toml", "concurrency = 64\norg_id = \"org_file\"\n");
    auto env = token_env;
    env["INVENT_ORG_ID"] = "org_env";
    env["INVENT_BASE_URL"] = "https://env.example.com";
    const auto c = run({"--config", file, "--concurrency", "100", "--org-id", "org_flag", "--base-url",
                        "https://flag.example.com:8443"},
                       env);
    BOOST_TEST(c.concurrency == 100u);
    BOOST_TEST(c.defaults.org_id == "org_flag");
    BOOST_TEST(c.client.endpoint.host == "flag.example.com");
    BOOST_TEST(c.client.endpoint.port == "8443");
}

BOOST_FIXTURE_TEST_CASE(config_flag_beats_config_variable, temp_dir) {
    auto env = token_env;
    env["INVENT_CONFIG"] = write("env.toml", "concurrency = 7\n");
    BOOST_TEST(run({"--config", write("flag.toml", "concurrency = 9\n")}, env).concurrency == 9u);
}

BOOST_AUTO_TEST_CASE(parse_rate_reads_count_per_unit) {
    using boost::test_tools::tolerance;
    BOOST_TEST(*parse_rate("8") == 8.0, tolerance(1e-12));
    BOOST_TEST(*parse_rate("8/s") == 8.0, tolerance(1e-12));
    BOOST_TEST(*parse_rate("8/sec") == 8.0, tolerance(1e-12));
    BOOST_TEST(*parse_rate("480/min") == 8.0, tolerance(1e-12));
    BOOST_TEST(*parse_rate("2/h") == 2.0 / 3600, tolerance(1e-12));
    BOOST_TEST(*parse_rate("0.5") == 0.5, tolerance(1e-12));
    BOOST_TEST(*parse_rate("7.5/min") == 0.125, tolerance(1e-12));
    BOOST_TEST(*parse_rate("1e3/s") == 1000.0, tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(parse_rate_rejects_malformed_and_non_positive) {
    for (const std::string_view text : {"", "0", "0/s", "-8", "+8", "abc", "8/", "/s", "8/day", "8 /s", "8/s ", " 8",
                                        "nan", "inf", "8/s/s", "8x", "1e-400", "1e999", "0x10"}) {
        BOOST_TEST(!parse_rate(text), "'" << text << "'");
    }
}

BOOST_AUTO_TEST_CASE(durations) {
    BOOST_TEST(parse_duration("500ms")->count() == 500);
    BOOST_TEST(parse_duration("30s")->count() == 30'000);
    BOOST_TEST(parse_duration("2m")->count() == 120'000);
    BOOST_TEST(parse_duration("1h")->count() == 3'600'000);
    BOOST_TEST(parse_duration("45")->count() == 45'000);
    BOOST_TEST(parse_duration("1.5s")->count() == 1'500);
    for (const auto* bad : {"", "s", "-1s", "10x", "1 0s", "ms500", "1e3"}) BOOST_TEST(!parse_duration(bad), bad);

    const auto c = run({"--timeout", "500ms", "--deadline", "2m", "--drain-timeout", "0"});
    BOOST_TEST(c.client.timeout.count() == 500);
    BOOST_TEST(c.deadline->count() == 120'000);
    BOOST_TEST(c.drain_timeout.count() == 0);
    BOOST_TEST(contains(usage_message([] { run({"--timeout", "soon"}); }), "--timeout: expected a duration"));
    BOOST_TEST(contains(usage_message([] { run({"--timeout", "0s"}); }), "timeout"));
}

// A Retry-After is read clamped to an hour: a cap of an hour or more would let
// a two-hour one pause the batch instead of stopping it.
BOOST_AUTO_TEST_CASE(max_retry_after_stays_under_the_clamp) {
    BOOST_TEST(run({"--max-retry-after", "59m"}).max_retry_after == 59min);
    BOOST_TEST(contains(usage_message([] { run({"--max-retry-after", "1h"}); }), "must be less than 3600 s"));
    BOOST_TEST(contains(usage_message([] { run({"--max-retry-after", "2h"}); }), "must be less than 3600 s"));
}

BOOST_AUTO_TEST_CASE(rates) {
    BOOST_TEST(run({"--rate", "8"}).rate->per_second == 8.0);
    BOOST_TEST(run({"--rate", "8/s"}).rate->per_second == 8.0);
    BOOST_TEST(run({"--rate", "480/min"}).rate->per_second == 8.0);
    BOOST_TEST(run({"--rate", "7200/h"}).rate->per_second == 2.0);
    const auto bursty = run({"--rate", "20", "--burst", "5"});
    BOOST_TEST(bursty.rate->burst == 5.0);
    for (const auto* bad : {"fast", "0", "-3", "8/day", "8/"})
        BOOST_TEST(contains(usage_message([&] { run({"--rate", bad}); }), "--rate: expected a rate"), bad);

    // The mock on loopback is not rate limited unless asked.
    BOOST_TEST(!run({"--base-url", "http://127.0.0.1:8080"}).rate);
    BOOST_TEST(run({"--base-url", "http://127.0.0.1:8080", "--rate", "100"}).rate->per_second == 100.0);
}

BOOST_AUTO_TEST_CASE(rate_from_file_as_text_or_number) {
    temp_dir dir;
    BOOST_TEST(run({"--config", dir.write("t.toml", "rate = \"480/min\"\n")}).rate->per_second == 8.0);
    BOOST_TEST(run({"--config", dir.write("n.toml", "rate = 2.5\ntimeout = 5\n")}).rate->per_second == 2.5);
    BOOST_TEST(run({"--config", dir.write("n.toml", "rate = 2.5\ntimeout = 5\n")}).client.timeout.count() == 5'000);
}

BOOST_AUTO_TEST_CASE(adaptive_rate_and_its_max) {
    // Against Invent, MAX is its documented limit less the margin; elsewhere 50/s.
    const auto invent = run({"--rate", "auto"});
    BOOST_REQUIRE(invent.rate);
    BOOST_TEST(invent.rate->adaptive);
    BOOST_TEST(invent.rate->per_second == 8.0);
    BOOST_TEST(run({"--rate", "auto", "--base-url", "https://eu.api.useinvent.com."}).rate->per_second == 8.0);
    const auto elsewhere = run({"--rate", "auto", "--base-url", "http://127.0.0.1:8080", "--burst", "4"});
    BOOST_TEST(elsewhere.rate->adaptive);
    BOOST_TEST(elsewhere.rate->per_second == 50.0);
    BOOST_TEST(elsewhere.rate->burst == 4.0);
    BOOST_TEST(run({"--rate", "auto", "--base-url", "https://api.example.com"}).rate->per_second == 50.0);
    BOOST_TEST(run({"--rate", "auto", "--base-url", "https://notuseinvent.com"}).rate->per_second == 50.0);
    // An explicit MAX wins everywhere.
    const auto capped = run({"--rate", "auto:1000"});
    BOOST_TEST(capped.rate->adaptive);
    BOOST_TEST(capped.rate->per_second == 1000.0);
    BOOST_TEST(run({"--rate", "auto:600/min", "--base-url", "http://[::1]:1"}).rate->per_second == 10.0);
    BOOST_TEST(!run({"--rate", "8"}).rate->adaptive);
    for (const auto* bad : {"auto:", "auto:fast", "auto:0", "automatic", "auto:-5", "auto 100"})
        BOOST_TEST(contains(usage_message([&] { run({"--rate", bad}); }), "--rate: expected a rate"), bad);
    // The config file's key takes the same values.
    temp_dir dir;
    const auto from_file = run({"--config", dir.write("a.toml", "rate = \"auto:300/s\"\n")});
    BOOST_TEST(from_file.rate->adaptive);
    BOOST_TEST(from_file.rate->per_second == 300.0);
}

BOOST_AUTO_TEST_CASE(shards) {
    BOOST_TEST(parse_shard("0/1")->index == 0u);
    BOOST_TEST(parse_shard("3/4")->index == 3u);
    BOOST_TEST(parse_shard("3/4")->count == 4u);
    for (const auto* bad : {"4/4", "0/0", "1", "a/b", "-1/4", "1/4/2", "/4", "1/"}) BOOST_TEST(!parse_shard(bad), bad);

    BOOST_TEST(run({"--shard", "2/8"}).admission.shard->index == 2u);
    BOOST_TEST(run({"--shard", "2/8"}).results_path == "contacts.csv.shard-2-of-8.results.jsonl");
    BOOST_TEST(run({"--shard", "2/8", "--results", "r.jsonl"}).results_path == "r.jsonl");
    auto env = token_env;
    env["INVENT_SHARD"] = "5/8";
    BOOST_TEST(run({}, env).admission.shard->index == 5u);
    BOOST_TEST(run({"--shard", "1/8"}, env).admission.shard->index == 1u);
    BOOST_TEST(contains(usage_message([] { run({"--shard", "8/8"}); }), "--shard: expected K/N with 0 <= K < N"));
    env["INVENT_SHARD"] = "9/8";
    BOOST_TEST(contains(usage_message([&] { run({}, env); }), "INVENT_SHARD:"));
}

BOOST_AUTO_TEST_CASE(concurrency_bounds) {
    BOOST_TEST(run({"--concurrency", "1"}).concurrency == 1u);
    BOOST_TEST(run({"--concurrency", "10000"}).concurrency == 10000u);
    for (const auto* bad : {"0", "10001", "-1", "many", "3.5"})
        BOOST_TEST(contains(usage_message([&] {
                                run({"--concurrency", bad});
                            }),
                            "--concurrency: expected a whole number from 1 to 10000"),
                   bad);
}

BOOST_AUTO_TEST_CASE(field_map_from_flags) {
    const auto c = run({"--map", "contact_id=ContactID,channel_id = Channel", "--map", "title=Subject"});
    BOOST_TEST(pairs_text(c.input.field_map) == "contact_id=ContactID;channel_id=Channel;title=Subject;");
    BOOST_TEST(contains(usage_message([] { run({"--map", "phone=Phone"}); }), "'phone' is not a field"));
    BOOST_TEST(contains(usage_message([] { run({"--map", "contact_id"}); }), "expected FIELD=COLUMN"));
    BOOST_TEST(contains(usage_message([] { run({"--map", "title=A,title=B"}); }), "mapped twice"));
}

BOOST_FIXTURE_TEST_CASE(field_map_from_file, temp_dir) {
    const auto table = run({"--config", write("t.toml", "[map]\ncontact_id = \"ContactID\"\n")});
    BOOST_TEST(pairs_text(table.input.field_map) == "contact_id=ContactID;");
    const auto array = run({"--config", write("a.toml", "map = [\"channel_id=Channel\"]\n")});
    BOOST_TEST(pairs_text(array.input.field_map) == "channel_id=Channel;");
}

BOOST_AUTO_TEST_CASE(input_format_and_delimiter) {
    BOOST_TEST((*run({"--format", "tsv"}).input.format == input_format::tsv));
    BOOST_TEST((*run({"--format", "ndjson"}).input.format == input_format::jsonl));
    BOOST_TEST(*run({"--delimiter", ";"}).input.delimiter == ';');
    BOOST_TEST(*run({"--delimiter", "\\t"}).input.delimiter == '\t');
    BOOST_TEST(*run({"--delimiter", "tab"}).input.delimiter == '\t');
    BOOST_TEST(contains(usage_message([] { run({"--format", "xml"}); }), "unknown format 'xml'"));
    BOOST_TEST(contains(usage_message([] { run({"--delimiter", ";;"}); }), "--delimiter"));
}

BOOST_AUTO_TEST_CASE(row_defaults_and_switches) {
    const auto c = run({"--assistant-id",
                        "asst_1",
                        "--title",
                        "Hi {{first_name}}",
                        "--message",
                        "Hello",
                        "--strict",
                        "--retry-unknown",
                        "--allow-duplicates",
                        "--retry-ambiguous",
                        "--quiet",
                        "--max-attempts",
                        "2",
                        "--auth-failures",
                        "9",
                        "--seed",
                        "42",
                        "--log-level",
                        "debug",
                        "--summary",
                        "s.json",
                        "--results",
                        "r.jsonl"});
    BOOST_TEST(c.defaults.assistant_id == "asst_1");
    BOOST_TEST(c.defaults.title == "Hi {{first_name}}");
    BOOST_TEST(c.defaults.message == "Hello");
    BOOST_TEST(c.strict);
    BOOST_TEST(c.admission.retry_unknown);
    BOOST_TEST(c.admission.allow_duplicates);
    BOOST_TEST(c.retry.retry_ambiguous);
    BOOST_TEST(c.quiet);
    BOOST_TEST(c.retry.max_attempts == 2u);
    BOOST_TEST(c.retry.auth_failures_to_abort == 9u);
    BOOST_TEST(c.seed == 42u);
    BOOST_TEST(c.log_level == "debug");
    BOOST_TEST(*c.summary_path == "s.json");
    BOOST_TEST(c.results_path == "r.jsonl");
    BOOST_TEST(contains(usage_message([] { run({"--log-level", "loud"}); }), "unknown log level 'loud'"));
}

BOOST_AUTO_TEST_CASE(standard_input_results_path) {
    BOOST_TEST(parse({"run", "-"}, token_env).dispatch.results_path == "stdin.results.jsonl");
    BOOST_TEST(parse({"run", "-"}, token_env).dispatch.input.path == "-");
}

BOOST_AUTO_TEST_CASE(token_as_flag_is_refused) {
    const auto message = usage_message([] { run({"--token", "secret"}); });
    BOOST_TEST(message == "pass the token in INVENT_API_TOKEN or --token-file, never as a flag (it would show in ps)");
    BOOST_TEST(contains(usage_message([] { run({"--token=secret"}); }), "never as a flag"));
}

BOOST_FIXTURE_TEST_CASE(token_file_first_line_trimmed, temp_dir) {
    const auto file = write("token", "  file-token \t\nsecond line\n");
    BOOST_TEST(run({"--token-file", file}, {}).client.token == "file-token");
    // --token-file beats the variable, which beats token_file in the config file.
    BOOST_TEST(run({"--token-file", file}).client.token == "file-token");
    const auto config = write("c.toml", "token_file = \"" + file + "\"\n");
    BOOST_TEST(run({"--config", config}).client.token == "secret-token");
    BOOST_TEST(run({"--config", config}, {}).client.token == "file-token");
    BOOST_TEST(contains(usage_message([&] {
                            run({"--token-file", (path / "none").string()});
                        }),
                        "cannot read token file"));
    BOOST_TEST(contains(usage_message([&] { run({"--token-file", write("empty", "\n")}); }), "is empty"));
}

BOOST_FIXTURE_TEST_CASE(token_cleaned_of_bom_whitespace_and_line_break, temp_dir) {
    // Notepad's BOM and CRLF, and the whitespace a pasted variable brings, are not part of the token.
    BOOST_TEST(run({"--token-file", write("bom", "\xEF\xBB\xBF"
                                                 "file-token\r\n")},
                   {})
                   .client.token == "file-token");
    BOOST_TEST(run({}, {{"INVENT_API_TOKEN", " env-token\r\n"}}).client.token == "env-token");
    BOOST_TEST(run({}, {{"INVENT_API_TOKEN", "\xEF\xBB\xBF"
                                             "env-token"}})
                   .client.token == "env-token");
}

BOOST_FIXTURE_TEST_CASE(token_with_a_control_character_refused_without_showing_it, temp_dir) {
    // A CR/LF inside would start a header of the sender's choosing.
    for (const std::string token : {"abc\r\nX-Injected: yes", "abc\ndef",
                                    "abc\x01"
                                    "def",
                                    "abc\x7F"
                                    "def",
                                    "abc\xC2\x85"
                                    "def",
                                    "abc\tdef"}) {
        const auto message = usage_message([&] { run({}, {{"INVENT_API_TOKEN", token}}); });
        BOOST_TEST(contains(message, "INVENT_API_TOKEN: the token holds a control character"), message);
        BOOST_TEST(!contains(message, "abc"), message);
        BOOST_TEST(!contains(message, "def"), message);
    }
    const auto message = usage_message([&] { run({"--token-file", write("t", "abc\x1B[31mdef\n")}, {}); });
    BOOST_TEST(contains(message, "the token holds a control character (byte 4 is 0x1B)"), message);
    BOOST_TEST(!contains(message, "abc"), message);
    // Not control characters: kept.
    BOOST_TEST(run({}, {{"INVENT_API_TOKEN", "t\xC3\xA9st key"}}).client.token == "t\xC3\xA9st key");
}

BOOST_AUTO_TEST_CASE(run_needs_a_token_validate_does_not) {
    BOOST_TEST(contains(usage_message([] { run({}, {}); }), "no API token"));
    BOOST_TEST(contains(usage_message([] { run({"--base-url", "http://localhost:9000"}, {}); }), "no API token"));
    const auto v = parse({"validate", "--base-url", "http://api.example.com", "contacts.csv"});
    BOOST_TEST((v.kind == command_kind::validate));
    BOOST_TEST(v.dispatch.input.path == "contacts.csv");
}

BOOST_FIXTURE_TEST_CASE(toml_unknown_key_names_key_and_line, temp_dir) {
    const auto file = write("bad.toml", "# comment\nconcurrency = 8\nconcurency = 9\n");
    const auto message = usage_message([&] { run({"--config", file}); });
    BOOST_TEST(contains(message, file + ":3"), message);
    BOOST_TEST(contains(message, "unknown key 'concurency'"), message);
}

BOOST_FIXTURE_TEST_CASE(toml_wrong_type_token_and_syntax, temp_dir) {
    const auto wrong = usage_message([&] { run({"--config", write("t.toml", "\n\nconcurrency = \"many\"\n")}); });
    BOOST_TEST(contains(wrong, "t.toml:3: concurrency: expected an integer"), wrong);
    const auto flag = usage_message([&] { run({"--config", write("b.toml", "strict = \"yes\"\n")}); });
    BOOST_TEST(contains(flag, "strict: expected true or false"), flag);
    const auto token = usage_message([&] { run({"--config", write("k.toml", "token = \"abc\"\n")}); });
    BOOST_TEST(contains(token, "k.toml:1: token: the token does not belong in a config file"), token);
    BOOST_TEST(!contains(token, "abc"));
    const auto syntax = usage_message([&] { run({"--config", write("s.toml", "concurrency = = 3\n")}); });
    BOOST_TEST(contains(syntax, "s.toml:1"), syntax);
    const auto value = usage_message([&] { run({"--config", write("v.toml", "\nconcurrency = 0\n")}); });
    BOOST_TEST(contains(value, "v.toml:2: concurrency: expected a whole number from 1 to 10000"), value);
    BOOST_TEST(!usage_message([&] { run({"--config", (path / "missing.toml").string()}); }).empty());
}

// Every "# key = value" line of the shipped example, uncommented, is a valid setting.
BOOST_FIXTURE_TEST_CASE(shipped_example_config_parses, temp_dir) {
    std::ifstream example(INVENT_SOURCE_DIR "/config/invent-dispatch.toml");
    BOOST_REQUIRE(example);
    const std::regex setting_line("^# ([a-z_]+ = .*)$");
    std::string line, uncommented;
    int settings = 0;
    while (std::getline(example, line)) {
        std::smatch match;
        if (std::regex_match(line, match, setting_line)) {
            uncommented += match[1].str() + "\n";
            ++settings;
        }
    }
    BOOST_TEST(settings >= 29);
    const auto c = run({"--config", write("example.toml", uncommented)});
    BOOST_TEST(c.client.endpoint.host == "api.useinvent.com");
    BOOST_TEST(c.defaults.assistant_id == "asst_123");
    BOOST_TEST(c.deadline->count() == 3'600'000);
    BOOST_TEST(c.client.proxy->host == "proxy.corp.example");
}

BOOST_AUTO_TEST_CASE(plain_http_only_on_loopback) {
    BOOST_TEST(usage_message([] {
                   run({"--base-url", "http://api.example.com"});
               }) == "refusing plain http to api.example.com: only loopback hosts may use http:// or --insecure");
    for (const auto* url :
         {"http://127.0.0.1:8080", "http://127.9.9.9", "http://localhost:9000", "http://[::1]:9000/v1/"}) {
        const auto c = run({"--base-url", url});
        BOOST_TEST(c.client.endpoint.loopback, url);
        BOOST_TEST(!c.client.endpoint.tls, url);
    }
    auto env = token_env;
    env["INVENT_BASE_URL"] = "http://10.0.0.1";
    BOOST_TEST(contains(usage_message([&] { run({}, env); }), "refusing plain http to 10.0.0.1"));
}

BOOST_AUTO_TEST_CASE(insecure_only_on_loopback) {
    BOOST_TEST(usage_message([] { run({"--insecure"}); }) ==
               "refusing --insecure to api.useinvent.com: only loopback hosts may use http:// or --insecure");
    BOOST_TEST(run({"--insecure", "--base-url", "https://localhost:8443"}).client.insecure);
}

BOOST_AUTO_TEST_CASE(endpoint_parts) {
    const auto e = parse_endpoint("https://api.example.com/v1/");
    BOOST_TEST(e.tls);
    BOOST_TEST(e.host == "api.example.com");
    BOOST_TEST(e.port == "443");
    BOOST_TEST(e.base_path == "/v1");
    BOOST_TEST(!e.loopback);
    const auto v6 = parse_endpoint("http://[::1]:8080");
    BOOST_TEST(v6.host == "::1");
    BOOST_TEST(v6.port == "8080");
    BOOST_TEST(v6.base_path == "");
    BOOST_TEST(parse_endpoint("http://LOCALHOST").port == "80");
    BOOST_TEST(parse_endpoint("http://LOCALHOST").loopback);
    BOOST_TEST(!parse_endpoint("https://128.0.0.1").loopback);
    BOOST_TEST(!parse_endpoint("https://localhost.example.com").loopback);
    for (const auto* bad : {"ftp://example.com", "api.example.com", "https://user:pw@example.com",
                            "https://example.com/?a=1", "https://", "https://example.com:0", "not a url"})
        BOOST_TEST(!usage_message([&] { parse_endpoint(bad); }).empty(), bad);
    BOOST_TEST(!contains(usage_message([] { parse_endpoint("https://user:pw@example.com"); }), "pw"));
}

BOOST_AUTO_TEST_CASE(endpoint_port_must_be_1_to_65535) {
    // 99999 once wrapped to 34463 and the token went there.
    for (const auto* bad : {"http://127.0.0.1:0", "http://127.0.0.1:65536", "http://127.0.0.1:99999",
                            "https://example.com:4294967297", "https://example.com:"}) {
        const auto message = usage_message([&] { parse_endpoint(bad); });
        BOOST_TEST(contains(message, "the port must be 1-65535"), bad << ": " << message);
    }
    BOOST_TEST(parse_endpoint("http://127.0.0.1:65535").port == "65535");
    BOOST_TEST(parse_endpoint("http://127.0.0.1:1").port == "1");
    BOOST_TEST(contains(usage_message([] { run({"--base-url", "http://127.0.0.1:99999"}); }), "1-65535"));
}

// Issue 12 finding 2: "%00api..." decoded to a host starting with NUL, which
// cut the certificate's expected name to nothing. A decoded host with a
// control character, a space or a '%' is refused (exit 2), from every source.
BOOST_AUTO_TEST_CASE(host_with_control_characters_is_refused) {
    for (const auto* bad : {"https://%00api.useinvent.com:18443", "https://api.useinvent.com%00.evil.example",
                            "https://api%0A.example.com", "https://api%20x.example.com", "https://api%25.example.com",
                            "https://api%7F.example.com", "https://%09localhost"}) {
        BOOST_TEST(contains(usage_message([&] { parse_endpoint(bad); }),
                            "the host holds a control character, a space or a '%' once decoded"),
                   bad);
    }
    auto env = token_env;
    env["INVENT_BASE_URL"] = "https://%00api.useinvent.com:18443";
    BOOST_TEST(contains(usage_message([&] { run({}, env); }), "once decoded"));
    BOOST_TEST(parse_endpoint("https://api%2Dx.example.com").host == "api-x.example.com");
}

BOOST_AUTO_TEST_CASE(commands) {
    BOOST_TEST((parse({}).kind == command_kind::help));
    for (const auto* help : {"help", "--help", "-h"}) {
        const auto c = parse({help});
        BOOST_TEST((c.kind == command_kind::help));
        BOOST_TEST(contains(c.help_text, "invent-dispatch run [options] INPUT"));
        BOOST_TEST(contains(c.help_text, "--drop-before-response"));
    }
    BOOST_TEST((parse({"run", "--help"}).kind == command_kind::help));
    const auto version = parse({"--version"});
    BOOST_TEST((version.kind == command_kind::version));
    BOOST_TEST(version.help_text == "invent-dispatch " INVENT_DISPATCH_VERSION);
    BOOST_TEST((parse({"demo"}).kind == command_kind::demo));
    BOOST_TEST(contains(usage_message([] { parse({"launch"}); }), "unknown command 'launch'"));
    BOOST_TEST(contains(usage_message([] { parse({"run"}, token_env); }), "missing INPUT"));
    BOOST_TEST(contains(usage_message([] { parse({"run", "a.csv", "b.csv"}, token_env); }), "one INPUT only"));
    BOOST_TEST(contains(usage_message([] { run({"--bogus"}); }), "bogus"));
}

BOOST_AUTO_TEST_CASE(mock_flags) {
    const auto m = parse({"mock",
                          "--port",
                          "8443",
                          "--plain",
                          "--latency",
                          "20,5",
                          "--error-rate",
                          "500=0.05,503=0.02",
                          "--error-rate",
                          "429=0.1",
                          "--rate-limit",
                          "50/s",
                          "--retry-after",
                          "2",
                          "--drop-before-response",
                          "0.01",
                          "--drop-on-accept",
                          "0.02",
                          "--max-requests-per-connection",
                          "100",
                          "--idle-timeout",
                          "5000",
                          "--malformed-rate",
                          "0.03",
                          "--honour-idempotency",
                          "--seed",
                          "7",
                          "--cert-out",
                          "ca.pem",
                          "--token",
                          "mock-token"})
                       .mock;
    BOOST_TEST(m.port == 8443);
    BOOST_TEST(m.plain);
    BOOST_TEST(m.latency.count() == 20);
    BOOST_TEST(m.latency_jitter.count() == 5);
    BOOST_TEST(pairs_text(m.error_rates) == "500=0.05;503=0.02;429=0.1;");
    BOOST_TEST(*m.rate_limit == 50.0);
    BOOST_TEST(m.retry_after == "2");
    BOOST_TEST(m.drop_before_response == 0.01);
    BOOST_TEST(m.drop_on_accept == 0.02);
    BOOST_TEST(m.max_requests_per_connection == 100u);
    BOOST_TEST(m.idle_timeout.count() == 5000);
    BOOST_TEST(m.malformed_rate == 0.03);
    BOOST_TEST(m.honour_idempotency);
    BOOST_TEST(m.seed == 7u);
    BOOST_TEST(*m.cert_out == "ca.pem");
    BOOST_TEST(m.token == "mock-token");
}

BOOST_AUTO_TEST_CASE(mock_rate_limit_knobs) {
    const auto m =
        parse({"mock", "--rate-limit", "300/s", "--rate-limit-headers", "draft", "--rate-limit-after", "2.5:150"}).mock;
    BOOST_TEST(*m.rate_limit == 300.0);
    BOOST_TEST((m.rate_limit_headers == mock_config::limit_headers::draft));
    BOOST_REQUIRE(m.rate_limit_after);
    BOOST_TEST(m.rate_limit_after->after.count() == 2500);
    BOOST_TEST(m.rate_limit_after->per_second == 150.0);
    BOOST_TEST((parse({"mock", "--rate-limit-headers", "x"}).mock.rate_limit_headers == mock_config::limit_headers::x));
    BOOST_TEST((parse({"mock"}).mock.rate_limit_headers == mock_config::limit_headers::none));
    BOOST_TEST(!parse({"mock"}).mock.rate_limit_after);
    BOOST_TEST(contains(usage_message([] {
                            parse({"mock", "--rate-limit-headers", "ietf"});
                        }),
                        "--rate-limit-headers"));
    for (const auto* bad : {"30", "30:", ":150", "x:150", "30:fast", "-1:150"})
        BOOST_TEST(contains(usage_message([&] {
                                parse({"mock", "--rate-limit-after", bad});
                            }),
                            "--rate-limit-after"),
                   bad);
}

BOOST_AUTO_TEST_CASE(mock_defaults_and_checks) {
    const auto m = parse({"mock", "--latency", "15"}).mock;
    BOOST_TEST(m.host == "127.0.0.1");
    BOOST_TEST(m.port == 0);
    BOOST_TEST(m.token == "demo-token");
    BOOST_TEST(m.latency.count() == 15);
    BOOST_TEST(m.latency_jitter.count() == 0);
    BOOST_TEST(m.retry_after == "1");
    BOOST_TEST(parse({"mock"}, token_env).mock.token == "secret-token");
    BOOST_TEST(parse({"mock", "--retry-after", "Sun, 06 Nov 1994 08:49:37 GMT"}).mock.retry_after ==
               "Sun, 06 Nov 1994 08:49:37 GMT");

    BOOST_TEST(contains(usage_message([] { parse({"mock", "--error-rate", "700=0.1"}); }), "from 100 to 599"));
    BOOST_TEST(contains(usage_message([] { parse({"mock", "--error-rate", "500=1.5"}); }), "probability"));
    BOOST_TEST(contains(usage_message([] { parse({"mock", "--error-rate", "500=0.7,503=0.7"}); }), "more than 1"));
    BOOST_TEST(contains(usage_message([] { parse({"mock", "--error-rate", "500"}); }), "STATUS=P"));
    BOOST_TEST(contains(usage_message([] { parse({"mock", "--drop-on-accept", "2"}); }), "--drop-on-accept"));
    BOOST_TEST(contains(usage_message([] { parse({"mock", "--latency", "1,2,3"}); }), "MS[,JITTER]"));
    BOOST_TEST(contains(usage_message([] { parse({"mock", "--port", "70000"}); }), "--port"));
    BOOST_TEST(contains(usage_message([] { parse({"mock", "--retry-after", "soon"}); }), "--retry-after"));
    BOOST_TEST(contains(usage_message([] { parse({"mock", "--rate-limit", "x"}); }), "--rate-limit"));
}

BOOST_FIXTURE_TEST_CASE(proxy_from_flag_environment_and_file_as_curl_reads_them, temp_dir) {
    auto env = token_env;
    BOOST_TEST(!run({}).client.proxy.has_value());
    env["HTTPS_PROXY"] = "http://upper:3128";
    BOOST_TEST(run({}, env).client.proxy->host == "upper");
    env["https_proxy"] = "http://lower:3128";   // curl reads the lower case first
    BOOST_TEST(run({}, env).client.proxy->host == "lower");
    BOOST_TEST(run({"--proxy", "http://flag:8080"}, env).client.proxy->host == "flag");
    BOOST_TEST(!run({"--proxy", ""}, env).client.proxy.has_value());   // '' turns the variables off, as curl -x ''
    // The config file is below the environment, as every setting.
    const auto file = write("p.toml", "proxy = \"http://file:3128\"\n");
    BOOST_TEST(run({"--config", file}, env).client.proxy->host == "lower");
    BOOST_TEST(run({"--config", file}).client.proxy->host == "file");
    // An https:// API takes HTTPS_PROXY only; an http:// one (loopback) HTTP_PROXY only.
    environment plain = token_env;
    plain["HTTP_PROXY"] = "http://plain-proxy:3128";
    BOOST_TEST(!run({}, plain).client.proxy.has_value());
    BOOST_TEST(run({"--base-url", "http://127.0.0.1:9000"}, plain).client.proxy->host == "plain-proxy");
    BOOST_TEST(!run({"--base-url", "http://127.0.0.1:9000"}, env).client.proxy.has_value());
}

BOOST_FIXTURE_TEST_CASE(no_proxy_names_the_api_host, temp_dir) {
    auto env = token_env;
    env["HTTPS_PROXY"] = "http://proxy:3128";
    env["NO_PROXY"] = "localhost,.useinvent.com";
    BOOST_TEST(!run({}, env).client.proxy.has_value());
    BOOST_TEST(run({"--base-url", "https://api.example.com"}, env).client.proxy.has_value());
    env["no_proxy"] = "example.com";   // lower case first, as curl
    BOOST_TEST(run({}, env).client.proxy.has_value());
    BOOST_TEST(!run({"--no-proxy", "*"}, env).client.proxy.has_value());
    BOOST_TEST(!run({"--proxy", "http://flag:1", "--no-proxy", "api.useinvent.com"}, env).client.proxy.has_value());
    BOOST_TEST(!run({"--config", write("n.toml", "no_proxy = \"useinvent.com\"\n")},
                    {{"INVENT_API_TOKEN", "t"}, {"HTTPS_PROXY", "http://p:1"}})
                    .client.proxy.has_value());
}

BOOST_AUTO_TEST_CASE(bad_proxy_url_names_its_origin_not_its_password) {
    auto env = token_env;
    env["HTTPS_PROXY"] = "socks5://user:hunter2@proxy:1080";
    const auto from_env = usage_message([&] { run({}, env); });
    BOOST_TEST(contains(from_env, "HTTPS_PROXY: unusable proxy URL: 'socks5://' proxies are not supported"), from_env);
    BOOST_TEST(!contains(from_env, "hunter2"), from_env);
    const auto from_flag = usage_message([] { run({"--proxy", "http://user:hunter2@proxy:3128/x"}); });
    BOOST_TEST(contains(from_flag, "--proxy: unusable proxy URL: a proxy URL has no path"), from_flag);
    BOOST_TEST(!contains(from_flag, "hunter2"), from_flag);
    // The start-up log names the proxy by its display, without its credentials.
    const auto with_proxy = run({"--proxy", "http://user:hunter2@proxy:3128"});
    BOOST_TEST(with_proxy.client.proxy->display == "http://proxy:3128");
    BOOST_TEST(!with_proxy.client.proxy->authorization.empty());
}

BOOST_FIXTURE_TEST_CASE(contacts_reads_its_flags_and_the_api_settings_of_run, temp_dir) {
    const auto plain = parse({"contacts"}, token_env);
    BOOST_TEST((plain.kind == command_kind::contacts));
    BOOST_TEST((plain.contacts.format == contacts_format::csv));
    BOOST_TEST(!plain.contacts.out_path);
    BOOST_TEST(plain.dispatch.client.token == "secret-token");
    BOOST_TEST(plain.dispatch.rate->per_second == 8.0);   // 480/min against Invent, as run
    BOOST_TEST(plain.dispatch.defaults.org_id == "c");

    const auto c = parse({"contacts", "--segment-id", "seg 1", "--status", "unsubscribed", "--name", "Ana", "--email",
                          "@x.com", "--out", "spring.jsonl", "--include-unsubscribed", "--include-blocked", "--org-id",
                          "org_9", "--base-url", "http://127.0.0.1:9", "--max-attempts", "2"},
                         token_env);
    BOOST_TEST(c.contacts.query.segment_id == "seg 1");
    BOOST_TEST(c.contacts.query.status == "UNSUBSCRIBED");
    BOOST_TEST(c.contacts.query.name == "Ana");
    BOOST_TEST(c.contacts.query.email == "@x.com");
    BOOST_TEST(*c.contacts.out_path == "spring.jsonl");
    BOOST_TEST((c.contacts.format == contacts_format::jsonl));   // from the extension
    BOOST_TEST(c.contacts.include_unsubscribed);
    BOOST_TEST(c.contacts.include_blocked);
    BOOST_TEST(c.dispatch.defaults.org_id == "org_9");
    BOOST_TEST(!c.dispatch.rate);   // loopback
    BOOST_TEST(c.dispatch.retry.max_attempts == 2u);
    BOOST_TEST((parse({"contacts", "--out", "x.jsonl", "--format", "csv"}, token_env).contacts.format ==
                contacts_format::csv));

    // A config file written for run serves contacts: its run-only keys are not contacts' business.
    const auto file = write("run.toml", "title = \"Hi\"\nshard = \"0/2\"\nrate = \"2/s\"\nformat = \"tsv\"\n");
    const auto from_file = parse({"contacts", "--config", file}, token_env);
    BOOST_TEST(from_file.dispatch.rate->per_second == 2.0);
    BOOST_TEST((from_file.contacts.format == contacts_format::csv));
    BOOST_TEST(!from_file.dispatch.admission.shard);

    BOOST_TEST(contains(usage_message([] { parse({"contacts", "--status", "gone"}, token_env); }), "--status"));
    BOOST_TEST(contains(usage_message([] { parse({"contacts", "--format", "tsv"}, token_env); }), "--format"));
    BOOST_TEST(contains(usage_message([] { parse({"contacts", "in.csv"}, token_env); }), "no INPUT"));
    BOOST_TEST(contains(usage_message([] { parse({"contacts", "--token", "t"}, token_env); }), "never as a flag"));
    BOOST_TEST(contains(usage_message([] { parse({"contacts"}); }), "no API token"));
    BOOST_TEST(contains(usage_message([] { parse({"contacts", "--title", "x"}, token_env); }), "title"));
    BOOST_TEST(contains(usage_message([] {
                            parse({"contacts", "--base-url", "http://example.com"}, token_env);
                        }),
                        "plain http"));
    BOOST_TEST(parse({"mock", "--contacts", "20"}).mock.contacts == 20u);
}

BOOST_AUTO_TEST_SUITE_END()
