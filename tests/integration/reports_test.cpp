// Reports and metrics (SPEC §3 summary, §9) from real runs of the binary
// against the bundled mock: what `run --summary/--report-html/--metrics-file`
// and `report` write, checked against the journal and by promtool.
#include <boost/test/unit_test.hpp>

#include <sys/inotify.h>

#include <regex>
#include <set>

#include "integration/support.hpp"
#include "invent_dispatch/mock.hpp"
#include "invent_dispatch/report.hpp"
#include "invent_dispatch/version.hpp"

using namespace test_support;
using invent_dispatch::mock_config;
using invent_dispatch::mock_server;

namespace {

// The §9 series, each with its `input` label.
const std::vector<std::string> spec_series{"invent_dispatch_rows_total",
                                           "invent_dispatch_requests_total",
                                           "invent_dispatch_retries_total",
                                           "invent_dispatch_request_duration_seconds_bucket",
                                           "invent_dispatch_request_duration_seconds_sum",
                                           "invent_dispatch_request_duration_seconds_count",
                                           "invent_dispatch_in_flight",
                                           "invent_dispatch_rate_limit_pauses_total",
                                           "invent_dispatch_last_run_start_timestamp_seconds",
                                           "invent_dispatch_last_run_end_timestamp_seconds",
                                           "invent_dispatch_last_run_exit_code"};

struct batch_fixture {
    temp_dir dir;
    std::unique_ptr<mock_server> mock;

    void start_mock(mock_config config) {
        mock = std::make_unique<mock_server>(std::move(config));
        write_file(dir / "ca.pem", mock->ca_pem());
    }
    process_result run(const fs::path& input, std::vector<std::string> extra) const {
        std::vector<std::string> args{
            "run", input.string(), "--base-url", mock->url(), "--ca-file", (dir / "ca.pem").string(), "--quiet"};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_binary(args, {{"INVENT_API_TOKEN", "demo-token"}}, dir.path);
    }
};

std::uint64_t count_outcome(const fs::path& journal, const std::string& outcome) {
    std::uint64_t n = 0;
    for (const auto& [key, r] : final_by_key(read_journal(journal))) n += str(r, "outcome") == outcome;
    return n;
}

bool promtool_accepts(const fs::path& metrics, const fs::path& dir) {
    BOOST_TEST_REQUIRE(std::system("command -v promtool >/dev/null 2>&1") == 0,
                       "promtool is missing: scripts/install-deps --test installs Debian's prometheus");
    return run_with_shell("promtool check metrics < '" + metrics.string() + "'", dir) == 0;
}

// The value of the sample `name{labels}` in Prometheus text, or -1.
double sample(const std::string& text, const std::string& name_and_labels) {
    const auto at = text.find("\n" + name_and_labels + " ");
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + name_and_labels.size() + 2));
}

}   // namespace

BOOST_AUTO_TEST_SUITE(reports)

BOOST_AUTO_TEST_CASE(run_writes_summary_metrics_and_html_at_its_end) {
    batch_fixture f;
    mock_config config;
    config.error_rates = {{422, 0.2}};
    config.seed = 7;
    f.start_mock(config);
    const auto input = f.dir / "contacts.csv";
    write_contacts_csv(input, 200);
    const auto result =
        f.run(input, {"--summary", (f.dir / "summary.json").string(), "--metrics-file", (f.dir / "batch.prom").string(),
                      "--report-html", (f.dir / "report.html").string()});
    BOOST_TEST_REQUIRE(result.exit_code == 1, result.err);
    const auto journal = f.dir / "contacts.csv.results.jsonl";
    const auto created = count_outcome(journal, "created");
    const auto failed = count_outcome(journal, "failed");
    BOOST_TEST_REQUIRE(failed > 0u);
    BOOST_TEST(created + failed == 200u);

    // The summary JSON: the run's facts, never the token.
    const auto summary_text = read_file_if_any(f.dir / "summary.json");
    BOOST_TEST(summary_text.find("demo-token") == std::string::npos);
    const auto summary = boost::json::parse(summary_text).as_object();
    BOOST_TEST(summary.at("exit_code").as_int64() == 1);
    BOOST_TEST(summary.at("version").as_string() == INVENT_DISPATCH_VERSION);
    BOOST_TEST(summary.at("input").as_string() == fs::canonical(input).string());
    BOOST_TEST(summary.at("base_url").as_string() == f.mock->url());
    const auto started = invent_dispatch::parse_utc_ms(summary.at("started_at").as_string());
    const auto finished = invent_dispatch::parse_utc_ms(summary.at("finished_at").as_string());
    BOOST_TEST_REQUIRE((started && finished));
    BOOST_TEST(*started <= *finished);
    const auto& top = summary.at("top_errors").as_array();
    BOOST_TEST_REQUIRE(top.size() == 1u);
    BOOST_TEST(std::string(top[0].at("reason").as_string()).starts_with("HTTP 422"));
    BOOST_TEST(top[0].at("count").to_number<std::uint64_t>() == failed);
    BOOST_TEST(top[0].at("examples").as_array().size() == invent_dispatch::error_tally::examples_kept);
    BOOST_TEST(result.err.find("top errors") != std::string::npos, result.err);

    // The metrics: valid Prometheus text with every §9 series, as the journal counts.
    const auto metrics_path = f.dir / "batch.prom";
    BOOST_TEST(promtool_accepts(metrics_path, f.dir.path));
    const auto metrics = read_file_if_any(metrics_path);
    const auto label = "input=\"" + fs::canonical(input).string() + "\"";
    for (const auto& series : spec_series)
        BOOST_TEST(metrics.find("\n" + series + "{" + label) != std::string::npos, series);
    BOOST_TEST(sample(metrics, "invent_dispatch_rows_total{" + label + ",outcome=\"created\"}") ==
               static_cast<double>(created));
    BOOST_TEST(sample(metrics, "invent_dispatch_rows_total{" + label + ",outcome=\"failed\"}") ==
               static_cast<double>(failed));
    BOOST_TEST(sample(metrics, "invent_dispatch_requests_total{" + label + ",status=\"422\"}") ==
               static_cast<double>(failed));
    BOOST_TEST(sample(metrics, "invent_dispatch_request_duration_seconds_count{" + label + "}") == 200.0);
    BOOST_TEST(sample(metrics, "invent_dispatch_last_run_exit_code{" + label + "}") == 1.0);
    BOOST_TEST(sample(metrics, "invent_dispatch_in_flight{" + label + "}") == 0.0);
    // No rate in force (loopback, no --rate): no rate sample.
    BOOST_TEST(sample(metrics, "invent_dispatch_rate_current{" + label + "}") == -1.0);
    BOOST_TEST(metrics.find("demo-token") == std::string::npos);

    // The HTML: one file that fetches nothing (the browser test looks at what it draws).
    const auto html = read_file_if_any(f.dir / "report.html");
    BOOST_TEST(html.starts_with("<!DOCTYPE html>"));
    BOOST_TEST(html.find("data-chart=\"statuses\"") != std::string::npos);
    for (const char* fetch : {"<script", "src=", "href=", "@import", "url("})
        BOOST_TEST(html.find(fetch) == std::string::npos, fetch);
}

// The textfile collector's rule: the file is replaced by a rename, never
// written in place, so a scrape cannot read half of it. inotify sees every
// write to the name; the run must leave only renames onto it.
BOOST_AUTO_TEST_CASE(metrics_file_is_only_ever_replaced_whole) {
    batch_fixture f;
    mock_config config;
    config.latency = std::chrono::milliseconds(100);
    f.start_mock(config);
    const auto input = f.dir / "contacts.csv";
    write_contacts_csv(input, 25);
    const auto metrics_dir = f.dir / "textfile";
    fs::create_directories(metrics_dir);
    const int watch = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    BOOST_TEST_REQUIRE(watch >= 0);
    BOOST_TEST_REQUIRE(
        ::inotify_add_watch(watch, metrics_dir.c_str(), IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE) >= 0);

    const auto metrics_path = metrics_dir / "invent.prom";
    child_process child({"run", input.string(), "--base-url", f.mock->url(), "--ca-file", (f.dir / "ca.pem").string(),
                         "--quiet", "--concurrency", "1", "--metrics-file", metrics_path.string()},
                        {{"INVENT_API_TOKEN", "demo-token"}}, f.dir.path);
    // Written as the run starts: the start time, no end yet.
    BOOST_TEST_REQUIRE(wait_for([&] { return fs::exists(metrics_path); }));
    const auto during = read_file_if_any(metrics_path);
    BOOST_TEST(during.find("\ninvent_dispatch_last_run_start_timestamp_seconds{") != std::string::npos, during);
    BOOST_TEST(during.find("\ninvent_dispatch_last_run_end_timestamp_seconds{") == std::string::npos, during);
    const auto result = child.wait();
    BOOST_TEST_REQUIRE(result.exit_code == 0, result.err);
    const auto after = read_file_if_any(metrics_path);
    BOOST_TEST(after.find("\ninvent_dispatch_last_run_end_timestamp_seconds{") != std::string::npos, after);
    BOOST_TEST(promtool_accepts(metrics_path, f.dir.path));

    std::size_t renames_onto = 0, writes_into = 0;
    alignas(inotify_event) char buffer[64 * 1024];
    for (ssize_t n; (n = ::read(watch, buffer, sizeof buffer)) > 0;) {
        for (char* p = buffer; p < buffer + n;) {
            const auto* event = reinterpret_cast<const inotify_event*>(p);
            if (event->len && std::string(event->name) == "invent.prom") {
                if (event->mask & IN_MOVED_TO) ++renames_onto;
                if (event->mask & (IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE)) ++writes_into;
            }
            p += sizeof(inotify_event) + event->len;
        }
    }
    ::close(watch);
    BOOST_TEST(renames_onto >= 2u);   // at the start and at the end
    BOOST_TEST(writes_into == 0u);
    // Nothing left behind but the file itself.
    BOOST_TEST(std::distance(fs::directory_iterator(metrics_dir), fs::directory_iterator()) == 1);
}

// Shards split the rows; their journals reported together count what one
// unsharded run of the same input counts.
BOOST_AUTO_TEST_CASE(three_shards_report_as_one_unsharded_run) {
    batch_fixture f;
    mock_config config;
    config.error_rates = {{404, 0.1}};
    f.start_mock(config);
    const auto input = f.dir / "contacts.csv";
    {
        std::ofstream out(input);
        out << "contact_id,channel_id,first_name\n";
        for (int i = 0; i < 300; ++i) {
            if (i % 50 == 7)
                out << ",ch_1,NoContact" << i << "\n";   // invalid: no contact_id
            else if (i % 40 == 3)
                out << "c_" << (i - 1) << ",ch_" << ((i - 1) % 7) << ",Again\n";   // duplicate key
            else
                out << "c_" << i << ",ch_" << (i % 7) << ",Name" << i << "\n";
        }
    }
    // The mock fails rows at random, so created and failed split differently
    // from one run to the next; what was sent, invalid and skipped does not.
    const auto whole = f.run(
        input, {"--results", (f.dir / "whole.jsonl").string(), "--summary", (f.dir / "whole-summary.json").string()});
    BOOST_TEST_REQUIRE((whole.exit_code == 1), whole.err);
    std::vector<std::string> report_args{"report"};
    for (int k = 0; k < 3; ++k) {
        const auto journal = f.dir / ("shard-" + std::to_string(k) + ".jsonl");
        const auto shard = f.run(input, {"--shard", std::to_string(k) + "/3", "--results", journal.string()});
        BOOST_TEST_REQUIRE((shard.exit_code == 0 || shard.exit_code == 1), shard.err);
        report_args.push_back(journal.string());
    }
    for (const auto& a : {"--json", "--metrics", "--html"})
        report_args.push_back(a), report_args.push_back((f.dir / (std::string(a + 2) + ".out")).string());
    const auto together = run_binary(report_args, {}, f.dir.path);
    BOOST_TEST_REQUIRE(together.exit_code == 0, together.err);
    BOOST_TEST(together.out.find("invent-dispatch summary") != std::string::npos, together.out);
    const auto alone = run_binary(
        {"report", (f.dir / "whole.jsonl").string(), "--json", (f.dir / "whole.json").string()}, {}, f.dir.path);
    BOOST_TEST_REQUIRE(alone.exit_code == 0, alone.err);

    const auto shards = boost::json::parse(read_file_if_any(f.dir / "json.out")).as_object();
    const auto unsharded = boost::json::parse(read_file_if_any(f.dir / "whole.json")).as_object();
    const auto run_summary = boost::json::parse(read_file_if_any(f.dir / "whole-summary.json")).as_object();
    // Outcomes that do not depend on the server's dice: every row once, invalid and skipped alike.
    BOOST_TEST(shards.at("rows") == unsharded.at("rows"));
    BOOST_TEST(shards.at("rows") == run_summary.at("rows"));
    BOOST_TEST(unsharded.at("outcomes") == run_summary.at("outcomes"));
    for (const char* o : {"invalid", "skipped"})
        BOOST_TEST(shards.at("outcomes").at(o) == unsharded.at("outcomes").at(o), o);
    BOOST_TEST(shards.at("outcomes").at("invalid").to_number<std::uint64_t>() == 6u);
    BOOST_TEST(shards.at("outcomes").at("skipped").to_number<std::uint64_t>() == 8u);
    const auto sent = [](const boost::json::object& s) {
        return s.at("outcomes").at("created").to_number<std::uint64_t>() +
               s.at("outcomes").at("failed").to_number<std::uint64_t>();
    };
    BOOST_TEST(sent(shards) == sent(unsharded));
    BOOST_TEST(sent(shards) == 286u);

    const auto metrics = read_file_if_any(f.dir / "metrics.out");
    BOOST_TEST(promtool_accepts(f.dir / "metrics.out", f.dir.path));
    BOOST_TEST(metrics.find("outcome=\"skipped\"} 8\n") != std::string::npos, metrics);
    BOOST_TEST(read_file_if_any(f.dir / "html.out").find("data-chart=\"statuses\"") != std::string::npos);
}

// Issue 11 item 11: a re-run says how many rows earlier runs created and how
// many they left unknown, and how to send the unknown ones again.
BOOST_AUTO_TEST_CASE(rerun_summary_counts_created_and_unknown_earlier) {
    batch_fixture f;
    mock_config dropping;
    dropping.drop_before_response = 0.3;
    f.start_mock(dropping);
    const auto input = f.dir / "contacts.csv";
    write_contacts_csv(input, 100);
    const auto first = f.run(input, {"--timeout", "5s"});
    BOOST_TEST_REQUIRE(first.exit_code == 1, first.err);
    const auto journal = f.dir / "contacts.csv.results.jsonl";
    const auto created = count_outcome(journal, "created");
    const auto unknown = count_outcome(journal, "unknown");
    BOOST_TEST_REQUIRE(unknown > 0u);
    BOOST_TEST_REQUIRE(created + unknown == 100u);

    f.start_mock({});
    const auto second = f.run(input, {"--summary", (f.dir / "again.json").string()});
    BOOST_TEST(second.exit_code == 1, second.err);   // the unknown rows are not known to be created
    const auto line = [](const char* label, std::uint64_t n) {
        std::string text = "    ";
        text += label;
        text.resize(20, ' ');
        const auto number = std::to_string(n);
        return text + std::string(10 - number.size(), ' ') + number + "\n";
    };
    BOOST_TEST(second.err.find(line("created earlier", created)) != std::string::npos, second.err);
    BOOST_TEST(second.err.find(line("unknown earlier", unknown)) != std::string::npos, second.err);
    BOOST_TEST(second.err.find("--retry-unknown re-sends them") != std::string::npos, second.err);
    BOOST_TEST(second.err.find("done earlier") == std::string::npos, second.err);
    const auto summary = boost::json::parse(read_file_if_any(f.dir / "again.json")).as_object();
    BOOST_TEST(summary.at("created_earlier").to_number<std::uint64_t>() == created);
    BOOST_TEST(summary.at("unknown_earlier").to_number<std::uint64_t>() == unknown);
    BOOST_TEST(summary.at("rows").to_number<std::uint64_t>() == 0u);
    BOOST_TEST(ledger_of(f.mock->stats_json()).empty());   // nothing sent again
}

// A 429 with Retry-After pauses the whole dispatcher: the summary and the
// metrics count the pauses, as many as the server asked for at most.
BOOST_AUTO_TEST_CASE(rate_limit_pauses_are_counted) {
    batch_fixture f;
    mock_config limited;
    limited.rate_limit = 20;
    limited.retry_after = "1";
    f.start_mock(limited);
    const auto input = f.dir / "contacts.csv";
    write_contacts_csv(input, 60);
    const auto result =
        f.run(input, {"--concurrency", "8", "--max-attempts", "20", "--summary", (f.dir / "summary.json").string(),
                      "--metrics-file", (f.dir / "m.prom").string()});
    BOOST_TEST_REQUIRE(result.exit_code == 0, result.err);
    const auto responses = boost::json::parse(f.mock->stats_json()).at("responses").as_object();
    const auto* too_many = responses.if_contains("429");
    BOOST_TEST_REQUIRE(too_many != nullptr);
    const auto pauses =
        boost::json::parse(read_file_if_any(f.dir / "summary.json")).at("rate_limit_pauses").to_number<std::int64_t>();
    BOOST_TEST(pauses >= 1);
    BOOST_TEST(pauses <= too_many->to_number<std::int64_t>());
    BOOST_TEST(result.err.find("rate-limit pauses") != std::string::npos, result.err);
    const auto label = "input=\"" + fs::canonical(input).string() + "\"";
    BOOST_TEST(sample(read_file_if_any(f.dir / "m.prom"), "invent_dispatch_rate_limit_pauses_total{" + label + "}") ==
               static_cast<double>(pauses));
}

// --rate auto: the metrics give the rate in force, the one the summary ends on.
BOOST_AUTO_TEST_CASE(the_adaptive_rate_is_a_metric) {
    batch_fixture f;
    mock_config limited;
    limited.rate_limit = 40;
    limited.retry_after = "0";   // refusals cut the rate, not pause the run
    f.start_mock(limited);
    const auto input = f.dir / "contacts.csv";
    write_contacts_csv(input, 60);
    const auto result =
        f.run(input, {"--rate", "auto:100", "--max-attempts", "100", "--summary", (f.dir / "summary.json").string(),
                      "--metrics-file", (f.dir / "m.prom").string()});
    BOOST_TEST_REQUIRE(result.exit_code == 0, result.err);
    const auto metrics_path = f.dir / "m.prom";
    BOOST_TEST(promtool_accepts(metrics_path, f.dir.path));
    const auto label = "input=\"" + fs::canonical(input).string() + "\"";
    const auto rate = sample(read_file_if_any(metrics_path), "invent_dispatch_rate_current{" + label + "}");
    const auto final_rate =
        boost::json::parse(read_file_if_any(f.dir / "summary.json")).at("rate").at("final").to_number<double>();
    BOOST_TEST(rate > 0.0);
    BOOST_TEST(rate <= 100.0);
    BOOST_TEST(std::abs(rate - final_rate) <= 0.005, rate << " against the summary's " << final_rate);
}

BOOST_AUTO_TEST_CASE(report_refuses_what_it_cannot_read) {
    temp_dir dir;
    const auto missing = run_binary({"report", (dir / "nope.jsonl").string()}, {}, dir.path);
    BOOST_TEST(missing.exit_code == 2);
    BOOST_TEST(missing.err.find((dir / "nope.jsonl").string() + ": cannot open") != std::string::npos, missing.err);
    write_file(dir / "input.csv", "contact_id,channel_id\n1,2\n");
    const auto not_journal = run_binary({"report", (dir / "input.csv").string()}, {}, dir.path);
    BOOST_TEST(not_journal.exit_code == 2);
    BOOST_TEST(not_journal.err.find("input.csv:1: not an invent-dispatch journal") != std::string::npos,
               not_journal.err);
    const auto none = run_binary({"report"}, {}, dir.path);
    BOOST_TEST(none.exit_code == 2);
    BOOST_TEST(none.err.find("missing JOURNAL") != std::string::npos, none.err);
}

BOOST_AUTO_TEST_SUITE_END()
