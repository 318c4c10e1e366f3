// The report of journals written here by hand, in the records' exact format
// (shared-formats.md), checked against counts, percentiles and time buckets
// this test computes on its own from the same rows.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <sstream>

#include "invent_dispatch/journal_records.hpp"
#include "invent_dispatch/journal_report.hpp"
#include "invent_dispatch/metrics.hpp"
#include "support/files.hpp"

using namespace invent_dispatch;
namespace fs = std::filesystem;

namespace {

// 2026-11-29T22:00:00.000Z
constexpr std::int64_t t0 = 1'795'989'600'000;

std::string at(std::int64_t ms) {
    return format_utc(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

// A file in a scratch folder of its own.
struct temp_file {
    test_support::temp_dir dir;
    fs::path path;
    explicit temp_file(const std::string& name) : path(dir / name) {}
    void write(const std::string& text) const { test_support::write_file(path, text); }
};

std::string row_line(std::uint64_t line, const std::string& key, const char* outcome, int status, int attempts,
                     std::optional<double> latency, const std::string& error, std::int64_t when) {
    const auto ids =
        key.empty() ? std::string(R"("org_id":null,"contact_id":null,"channel_id":null)")
                    : fmt::format(R"("org_id":"c","contact_id":"{}","channel_id":"ch")", key.substr(2, key.size() - 5));
    return fmt::format(
        R"({{"line":{},"key":{},{},"outcome":"{}","http_status":{},"chat_id":{},"chat_status":null,)"
        R"("chat_state":null,"chat_created_at":null,"link":null,"attempts":{},"latency_ms":{},"error":{},"at":"{}"}})"
        "\n",
        line, key.empty() ? "null" : "\"" + key + "\"", ids, outcome, status ? std::to_string(status) : "null",
        std::string(outcome) == "created" ? "\"chat_" + std::to_string(line) + "\"" : "null", attempts,
        latency ? fmt::format("{:.1f}", *latency) : "null", error.empty() ? "null" : "\"" + error + "\"", at(when));
}

// What the test expects, counted as it writes the journal.
struct expected_batch {
    std::map<std::pair<std::string, std::uint64_t>, std::string> final_by_row;
    std::map<int, std::uint64_t> by_status;
    std::vector<double> latencies;
    std::uint64_t requests = 0, retries = 0;
    std::map<unsigned, std::uint64_t> attempts;
    std::map<std::string, std::uint64_t> errors;
    std::vector<std::pair<std::int64_t, std::string>> timed;   // (at, outcome) of each final record
    double max_latency = 0;
    std::uint64_t max_latency_line = 0;
};

// One journal of two runs: the first over 1,000 rows in 60 s; the second,
// 10 s later, re-sends the rows that failed with 503 and dies with two
// requests in flight, its last line torn.
std::string known_journal(expected_batch& e) {
    std::string text =
        R"({"journal":"invent-dispatch","version":1,"input":"/data/spring.csv","input_size":123,"input_digest":"ab"})"
        "\n";
    text += fmt::format(
        R"({{"event":"run_start","version":"0.1.0","base_url":"https://api.example","shard":null,"pid":41,"at":"{}"}})"
        "\n",
        at(t0));
    const auto add = [&](std::uint64_t line, const std::string& key, const char* outcome, int status, int attempts,
                         std::optional<double> latency, const std::string& error, std::int64_t when) {
        if (attempts > 0)
            text += fmt::format(R"({{"line":{},"key":"{}","outcome":"sending","at":"{}"}})"
                                "\n",
                                line, key, at(when - 1));
        text += row_line(line, key, outcome, status, attempts, latency, error, when);
        e.final_by_row[{key, line}] = outcome;
        if (attempts > 0) {
            ++e.by_status[status];
            e.requests += static_cast<unsigned>(attempts);
            e.retries += static_cast<unsigned>(attempts - 1);
            ++e.attempts[static_cast<unsigned>(attempts)];
        }
        if (latency && status) {
            e.latencies.push_back(*latency);
            if (*latency > e.max_latency) e.max_latency = *latency, e.max_latency_line = line;
        }
        if (!error.empty() && std::string(outcome) != "skipped") ++e.errors[error];   // a skip is no error
        e.timed.emplace_back(when, outcome);
    };
    for (std::uint64_t i = 0; i < 1000; ++i) {
        const auto key = fmt::format("c/k{}/ch", i);
        const auto when = t0 + static_cast<std::int64_t>(i) * 60 + 5;
        const double latency = 20 + static_cast<double>(i * 7919 % 1000) / 10.0;   // 20.0 .. 119.9 ms
        switch (i % 10) {
        case 7: add(i + 2, key, "failed", 422, 1, latency, "HTTP 422: channel not found", when); break;
        case 8: add(i + 2, key, "failed", 503, 5, latency * 3, "HTTP 503: Service Unavailable", when); break;
        case 9: add(i + 2, key, "unknown", 0, 1, std::nullopt, "response timeout after 30000 ms", when); break;
        default: add(i + 2, key, "created", 200, i % 3 == 0 ? 2 : 1, latency, "", when); break;
        }
    }
    for (std::uint64_t i = 0; i < 5; ++i)   // invalid rows: no key, never sent
        add(2000 + i, "", "invalid", 0, 0, std::nullopt, "line 2000: missing channel_id", t0 + 59'000);
    for (std::uint64_t i = 0; i < 3; ++i)   // later copies of created keys
        add(3000 + i, fmt::format("c/k{}/ch", i), "skipped", 0, 0, std::nullopt, "duplicate", t0 + 59'500);
    text += fmt::format(R"({{"event":"pause","status":429,"until":"{}","at":"{}"}})"
                        "\n",
                        at(t0 + 31'000), at(t0 + 30'000));
    text += fmt::format(R"({{"event":"run_end","exit_code":1,"at":"{}"}})"
                        "\n",
                        at(t0 + 60'000));

    text += fmt::format(
        R"({{"event":"run_start","version":"0.1.1","base_url":"https://api.example","shard":null,"pid":42,"at":"{}"}})"
        "\n",
        at(t0 + 70'000));
    std::int64_t when = t0 + 70'000;
    for (std::uint64_t i = 8; i < 1000; i += 10) {
        when += 200;
        add(i + 2, fmt::format("c/k{}/ch", i), "created", 201, 1, 400.0 + static_cast<double>(i / 10), "", when);
    }
    // Two requests in flight when the process died: unknown, without a time.
    for (const std::uint64_t i : {997u, 987u}) {
        text += fmt::format(R"({{"line":{},"key":"c/k{}/ch","outcome":"sending","at":"{}"}})"
                            "\n",
                            i + 2, i, at(t0 + 89'900));
        const auto key = fmt::format("c/k{}/ch", i);
        e.final_by_row[{key, i + 2}] = "unknown";
        ++e.errors["request was in flight when the journal ends"];
    }
    text += R"({"line":5000,"key":"c/k5000/ch","outco)";   // torn: the crash cut it
    return text;
}

double nearest_rank(std::vector<double> values, double p) {
    std::sort(values.begin(), values.end());
    const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
    return values[std::max<std::size_t>(rank, 1) - 1];
}

std::uint64_t count_of(const std::array<std::uint64_t, 5>& counts, outcome o) {
    return counts[static_cast<std::size_t>(o)];
}

}   // namespace

BOOST_AUTO_TEST_SUITE(journal_report)

BOOST_AUTO_TEST_CASE(known_journal_counts_percentiles_and_buckets) {
    expected_batch e;
    temp_file journal("known.jsonl");
    const auto text = known_journal(e);
    journal.write(text);
    const auto torn_line = std::count(text.begin(), text.end(), '\n') + 1;
    std::ostringstream warnings;
    const batch_report report({journal.path.string()}, warnings);
    const auto s = report.summary();

    // Outcomes: each row's last final record.
    std::map<std::string, std::uint64_t> expected_outcomes;
    for (const auto& [row, o] : e.final_by_row) ++expected_outcomes[o];
    BOOST_TEST(count_of(s.outcomes, outcome::created) == expected_outcomes["created"]);
    BOOST_TEST(count_of(s.outcomes, outcome::failed) == expected_outcomes["failed"]);
    BOOST_TEST(count_of(s.outcomes, outcome::unknown) == expected_outcomes["unknown"]);
    BOOST_TEST(count_of(s.outcomes, outcome::invalid) == 5u);
    BOOST_TEST(count_of(s.outcomes, outcome::skipped) == 3u);
    BOOST_TEST(s.rows() == e.final_by_row.size());
    BOOST_TEST(expected_outcomes["failed"] ==
               98u);   // the 422s but two left in flight; the 503s were created on the re-run
    BOOST_TEST(expected_outcomes["unknown"] == 102u);

    BOOST_TEST((s.by_status == e.by_status));
    BOOST_TEST(s.requests == e.requests);
    BOOST_TEST(s.retries == e.retries);
    BOOST_TEST((report.attempts_per_row() == e.attempts));

    // Percentiles within the histogram's 1%, the maximum exact.
    BOOST_TEST(s.latencies.count() == e.latencies.size());
    for (const double p : {50.0, 90.0, 99.0}) {
        const double exact = nearest_rank(e.latencies, p);
        const double reported = static_cast<double>(s.latencies.percentile(p)) / 1000.0;
        BOOST_TEST(std::abs(reported - exact) <= 0.01 * exact, "p" << p << ": " << reported << " vs " << exact);
    }
    BOOST_TEST(static_cast<double>(s.latencies.max()) / 1000.0 == e.max_latency);
    BOOST_TEST_REQUIRE(!report.slowest().empty());
    BOOST_TEST(report.slowest().front().latency_ms == e.max_latency);
    BOOST_TEST(report.slowest().front().line == e.max_latency_line);
    BOOST_TEST(report.slowest().size() == batch_report::slowest_kept);

    // Span 90 s: 1 s buckets would be 90 of them (over 60), 2 s buckets 46.
    BOOST_TEST(report.bucket_width_ms() == 2000);
    BOOST_TEST(report.buckets_origin_ms() == t0);
    std::map<std::size_t, std::map<std::string, std::uint64_t>> expected_buckets;
    for (const auto& [when, o] : e.timed) ++expected_buckets[static_cast<std::size_t>((when - t0) / 2000)][o];
    BOOST_TEST_REQUIRE(report.buckets().size() == 46u);
    for (std::size_t i = 0; i < report.buckets().size(); ++i) {
        const auto& b = report.buckets()[i];
        for (const auto o : {outcome::created, outcome::failed, outcome::invalid, outcome::skipped, outcome::unknown})
            BOOST_TEST(count_of(b.outcomes, o) == expected_buckets[i][std::string(to_string(o))],
                       "bucket " << i << " " << to_string(o));
    }
    BOOST_TEST(report.rows_without_time() == 2u);

    // Errors: the most frequent first, with the rows that gave them.
    const auto top = report.top_errors(10);
    BOOST_TEST_REQUIRE(top.size() == e.errors.size());   // the 503 rows were created later; their failures still count
    BOOST_TEST(top.front().reason == "HTTP 422: channel not found");
    BOOST_TEST(top.front().count == e.errors["HTTP 422: channel not found"]);
    BOOST_TEST(top.front().examples.front() == "line 9 c/k7/ch");

    // The runs and the pause.
    BOOST_TEST_REQUIRE(report.runs().size() == 2u);
    BOOST_TEST(*report.runs()[0].exit_code == 1);
    BOOST_TEST(!report.runs()[1].end_ms);
    BOOST_TEST_REQUIRE(report.pauses().size() == 1u);
    BOOST_TEST(report.pauses()[0].until_ms - report.pauses()[0].at_ms == 1000);
    BOOST_TEST(s.rate_limit_pauses == 1u);
    BOOST_TEST(s.wall_seconds == 60.0);   // the one run that says when it ended
    BOOST_TEST(s.started_at == "2026-11-29T22:00:00.000Z");
    BOOST_TEST(s.version == "0.1.0, 0.1.1");
    BOOST_TEST(s.base_url == "https://api.example");
    BOOST_TEST(s.input == "/data/spring.csv");
    BOOST_TEST(*s.exit_code == 1);

    // The torn last line is skipped and said once.
    BOOST_TEST(report.journals().front().unreadable_lines == 1u);
    BOOST_TEST(warnings.str().find(fmt::format(":{}: 1 line that is not a journal record", torn_line)) !=
                   std::string::npos,
               warnings.str());
}

// Several journals are one batch: the sum of their rows.
BOOST_AUTO_TEST_CASE(journals_without_timestamps_or_events_are_read) {
    temp_file a("old-a.jsonl"), b("old-b.jsonl");
    a.write(
        R"({"journal":"invent-dispatch","version":1,"input":"/in.csv"})"
        "\n"
        R"({"line":2,"key":"c/1/x","outcome":"sending"})"
        "\n"
        R"({"line":2,"key":"c/1/x","org_id":"c","contact_id":"1","channel_id":"x","outcome":"created","http_status":200,"chat_id":"chat_1","chat_status":"RUNNING","chat_state":"OPEN","chat_created_at":null,"link":null,"attempts":1,"latency_ms":84.2,"error":null})"
        "\n");
    b.write(
        R"({"journal":"invent-dispatch","version":1,"input":"/in.csv"})"
        "\n"
        R"({"line":3,"key":"c/2/x","org_id":"c","contact_id":"2","channel_id":"x","outcome":"failed","http_status":400,"chat_id":null,"chat_status":null,"chat_state":null,"chat_created_at":null,"link":null,"attempts":1,"latency_ms":12.0,"error":"HTTP 400: bad"})"
        "\n");
    std::ostringstream warnings;
    const batch_report report({a.path.string(), b.path.string()}, warnings);
    const auto s = report.summary();
    BOOST_TEST(count_of(s.outcomes, outcome::created) == 1u);
    BOOST_TEST(count_of(s.outcomes, outcome::failed) == 1u);
    BOOST_TEST(report.buckets().empty());
    BOOST_TEST(report.rows_without_time() == 2u);
    BOOST_TEST(s.started_at.empty());
    BOOST_TEST(!s.exit_code);
    BOOST_TEST(warnings.str().empty());
    std::ostringstream html;
    write_html_report(report, html);
    BOOST_TEST(html.str().find("carry no timestamps") != std::string::npos);
}

// Counts in the HTML are grouped by thousands: 1,234 rows, and 1,234,000
// requests (a thousand attempts each).
BOOST_AUTO_TEST_CASE(html_counts_are_grouped_by_thousands) {
    temp_file journal("big.jsonl");
    std::string text = R"({"journal":"invent-dispatch","version":1,"input":"/in.csv"})"
                       "\n";
    for (std::uint64_t line = 2; line < 2 + 1234; ++line)
        text += row_line(line, fmt::format("c/k{}/ch", line), "created", 200, 1000, 80.0, "", t0 + 1000);
    journal.write(text);
    std::ostringstream warnings;
    const batch_report report({journal.path.string()}, warnings);
    BOOST_TEST(report.summary().requests == 1'234'000u);
    std::ostringstream html;
    write_html_report(report, html);
    BOOST_TEST(html.str().find(">1,234<") != std::string::npos);
    BOOST_TEST(html.str().find("1,234,000") != std::string::npos);
    BOOST_TEST(html.str().find("1234") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_file_that_is_not_a_journal_is_refused_by_name) {
    temp_file f("not-a-journal.csv");
    f.write("contact_id,channel_id\n1,2\n");
    std::ostringstream warnings;
    try {
        const batch_report report({f.path.string()}, warnings);
        BOOST_FAIL("accepted a CSV as a journal");
    } catch (const journal_error& e) {
        BOOST_TEST(std::string(e.what()) == f.path.string() + ":1: not an invent-dispatch journal");
    }
    BOOST_CHECK_THROW(batch_report({(f.path.string() + ".missing")}, warnings), journal_error);
}

BOOST_AUTO_TEST_CASE(bucket_width_follows_the_span) {
    BOOST_TEST(batch_report::bucket_width_for(0) == 10);
    BOOST_TEST(batch_report::bucket_width_for(599) == 10);
    BOOST_TEST(batch_report::bucket_width_for(600) == 20);
    BOOST_TEST(batch_report::bucket_width_for(59'999) == 1'000);
    BOOST_TEST(batch_report::bucket_width_for(3'540'000) == 60'000);   // under an hour: minutes
    BOOST_TEST(batch_report::bucket_width_for(8 * 3'600'000) == 600'000);   // a night: ten minutes
    BOOST_TEST(batch_report::bucket_width_for(30LL * 86'400'000) == 86'400'000);
}

// Space-saving keeps every reason more frequent than total / capacity, with
// an overcount bound on what it may have inherited.
BOOST_AUTO_TEST_CASE(error_tally_keeps_the_frequent_reasons_in_bounded_memory) {
    error_tally tally(64);
    for (int i = 0; i < 50; ++i) tally.add("HTTP 503", fmt::format("line {}", i));
    for (int i = 0; i < 1000; ++i) tally.add(fmt::format("rare {}", i), "x");
    for (int i = 0; i < 30; ++i) tally.add("HTTP 422", "y");
    const auto top = tally.top(2);
    BOOST_TEST_REQUIRE(top.size() == 2u);
    BOOST_TEST(top[0].reason == "HTTP 503");
    BOOST_TEST(top[0].count == 50u);
    BOOST_TEST(top[0].overcount == 0u);
    BOOST_TEST(top[0].examples.size() == error_tally::examples_kept);
    BOOST_TEST(top[0].examples.front() == "line 0");
    BOOST_TEST(top[1].reason == "HTTP 422");
    BOOST_TEST(top[1].count - top[1].overcount == 30u);
    BOOST_TEST(tally.total() == 1080u);
}

BOOST_AUTO_TEST_CASE(metric_labels_are_escaped_and_the_histogram_is_cumulative) {
    metrics_snapshot m;
    m.input = "/data/a \"b\"\\c\nd.csv";
    m.durations.record(3'000);   // 3 ms
    m.durations.record(40'000);   // 40 ms
    m.durations.record(200'000'000);   // 200 s: only in +Inf
    const auto text = prometheus_text(m);
    const std::string label = R"(input="/data/a \"b\"\\c\nd.csv")";
    BOOST_TEST(text.find("invent_dispatch_retries_total{" + label + "} 0\n") != std::string::npos, text);
    BOOST_TEST(text.find("_bucket{" + label + R"(,le="0.005"} 1)") != std::string::npos, text);
    BOOST_TEST(text.find("_bucket{" + label + R"(,le="0.05"} 2)") != std::string::npos, text);
    BOOST_TEST(text.find("_bucket{" + label + R"(,le="120"} 2)") != std::string::npos, text);
    BOOST_TEST(text.find("_bucket{" + label + R"(,le="+Inf"} 3)") != std::string::npos, text);
    BOOST_TEST(text.find("_sum{" + label + "} 200.043\n") != std::string::npos, text);
    // A run still going has no end and no exit code yet.
    BOOST_TEST(text.find("invent_dispatch_last_run_exit_code{") == std::string::npos);
    // No rate in force, no rate sample; with one, its value in requests/s.
    BOOST_TEST(text.find("invent_dispatch_rate_current{") == std::string::npos);
    m.rate_per_second = 12.5;
    BOOST_TEST(prometheus_text(m).find("invent_dispatch_rate_current{" + label + "} 12.5\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(utc_timestamps_round_trip) {
    BOOST_TEST(at(t0 + 5'123) == "2026-11-29T22:00:05.123Z");
    BOOST_TEST(*parse_utc_ms("2026-11-29T22:00:05.123Z") == t0 + 5'123);
    BOOST_TEST(*parse_utc_ms("2026-11-29T23:00:05+01:00") == t0 + 5'000);
    BOOST_TEST(!parse_utc_ms("2026-11-29T22:00:05"));
    BOOST_TEST(!parse_utc_ms("2026-13-29T22:00:05Z"));
    BOOST_TEST(!parse_utc_ms("yesterday"));
}

BOOST_AUTO_TEST_SUITE_END()
