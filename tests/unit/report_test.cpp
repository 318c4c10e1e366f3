#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <sstream>

#include "invent_dispatch/report.hpp"

using namespace invent_dispatch;
using namespace std::chrono_literals;

namespace {

row_result finished(outcome o, int status, double latency_ms, unsigned attempts = 1) {
    row_result r;
    r.result = o;
    r.http_status = status;
    r.latency_ms = latency_ms;
    r.attempts = attempts;
    return r;
}

std::size_t occurrences(const std::string& text, const std::string& part) {
    std::size_t n = 0;
    for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
    return n;
}

}   // namespace

BOOST_AUTO_TEST_SUITE(report)

BOOST_AUTO_TEST_CASE(histogram_is_exact_for_small_values) {
    latency_histogram h;
    for (std::uint64_t v = 0; v < 100; ++v) h.record(v);
    BOOST_TEST(h.count() == 100u);
    BOOST_TEST(h.percentile(50) == 49u);
    BOOST_TEST(h.percentile(1) == 0u);
    BOOST_TEST(h.percentile(100) == 99u);
    BOOST_TEST(h.max() == 99u);
}

BOOST_AUTO_TEST_CASE(histogram_error_is_within_one_percent) {
    // One sample at a time, so the percentile is the bucket's estimate of exactly that value.
    for (double v = 100; v < 3.6e9; v *= 1.07) {
        latency_histogram h;
        const auto micros = static_cast<std::uint64_t>(v);
        h.record(micros + 1);   // the exact max would hide the bucket estimate
        h.record(micros);
        const auto estimate = static_cast<double>(h.percentile(50));
        BOOST_TEST(std::abs(estimate - static_cast<double>(micros)) <= 0.01 * static_cast<double>(micros), micros);
    }
}

BOOST_AUTO_TEST_CASE(histogram_percentiles_of_a_uniform_spread) {
    latency_histogram h;
    for (std::uint64_t v = 1; v <= 100'000; ++v) h.record(v);
    BOOST_TEST(std::abs(static_cast<double>(h.percentile(50)) - 50'000) <= 500);
    BOOST_TEST(std::abs(static_cast<double>(h.percentile(90)) - 90'000) <= 900);
    BOOST_TEST(std::abs(static_cast<double>(h.percentile(99)) - 99'000) <= 990);
    BOOST_TEST(h.max() == 100'000u);
    BOOST_TEST(h.percentile(100) == 100'000u);
}

BOOST_AUTO_TEST_CASE(histogram_edges) {
    latency_histogram empty;
    BOOST_TEST(empty.percentile(50) == 0u);
    BOOST_TEST(empty.max() == 0u);
    latency_histogram h;
    h.record(std::numeric_limits<std::uint64_t>::max());
    h.record(5);
    BOOST_TEST(h.max() == std::numeric_limits<std::uint64_t>::max());
    BOOST_TEST(h.percentile(50) == 5u);
    BOOST_TEST(h.percentile(100) == std::numeric_limits<std::uint64_t>::max());
}

BOOST_AUTO_TEST_CASE(counts_outcomes_statuses_and_latency) {
    run_report r;
    r.row_finished(finished(outcome::created, 200, 80));
    r.row_finished(finished(outcome::created, 200, 120));
    r.row_finished(finished(outcome::failed, 422, 40));
    r.row_finished(finished(outcome::unknown, 0, 30'000));   // sent, no answer: no latency
    r.row_finished(finished(outcome::invalid, 0, 0, 0));   // never sent: no status either
    r.row_finished(finished(outcome::skipped, 0, 0, 0));
    r.row_resumed(outcome::created);
    const auto& c = r.counters();
    BOOST_TEST(c.by_outcome[static_cast<std::size_t>(outcome::created)] == 2u);
    BOOST_TEST(c.by_outcome[static_cast<std::size_t>(outcome::failed)] == 1u);
    BOOST_TEST(c.by_outcome[static_cast<std::size_t>(outcome::unknown)] == 1u);
    BOOST_TEST(c.by_outcome[static_cast<std::size_t>(outcome::invalid)] == 1u);
    BOOST_TEST(c.by_outcome[static_cast<std::size_t>(outcome::skipped)] == 1u);
    BOOST_TEST(c.by_status.size() == 3u);
    BOOST_TEST(c.by_status.at(200) == 2u);
    BOOST_TEST(c.by_status.at(422) == 1u);
    BOOST_TEST(c.by_status.at(0) == 1u);
    BOOST_TEST(c.resumed_skips == 1u);
    BOOST_TEST(r.rows_done() == 7u);
    BOOST_TEST(r.latencies().count() == 3u);
    BOOST_TEST(r.latencies().max() == 120'000u);
}

BOOST_AUTO_TEST_CASE(summary_table_and_json_agree) {
    run_report r;
    r.row_finished(finished(outcome::created, 200, 84.2));
    r.row_finished(finished(outcome::failed, 503, 12.5, 5));
    for (int i = 0; i < 6; ++i) {
        r.request_started();
        r.request_finished();
    }
    r.retries_so_far(4);
    r.stale_reconnects_seen(1);
    r.row_resumed(outcome::created);
    r.finish();

    const auto summary = r.summary({"0.1.0", "/data/in.csv", "https://api.example", 1});
    std::ostringstream table;
    write_summary_table(summary, table);
    const auto text = table.str();
    BOOST_TEST(text.find("    created                  1\n") != std::string::npos, text);
    BOOST_TEST(text.find("    503                      1\n") != std::string::npos, text);
    BOOST_TEST(text.find("  retries                    4\n") != std::string::npos, text);
    BOOST_TEST(text.find("  stale reconnects           1\n") != std::string::npos, text);
    BOOST_TEST(text.find("latency ms") != std::string::npos, text);
    BOOST_TEST(text.find("wall time") != std::string::npos, text);

    std::ostringstream json_text;
    write_summary_json(summary, json_text);
    const auto json = boost::json::parse(json_text.str()).as_object();
    BOOST_TEST(json.at("outcomes").at("created").to_number<std::uint64_t>() == 1u);
    BOOST_TEST(json.at("outcomes").at("failed").to_number<std::uint64_t>() == 1u);
    BOOST_TEST(json.at("outcomes").at("unknown").to_number<std::uint64_t>() == 0u);
    BOOST_TEST(json.at("http_status").at("503").to_number<std::uint64_t>() == 1u);
    BOOST_TEST(json.at("rows").to_number<std::uint64_t>() == 2u);
    BOOST_TEST(json.at("retries").to_number<std::uint64_t>() == 4u);
    BOOST_TEST(json.at("requests").to_number<std::uint64_t>() == 6u);
    BOOST_TEST(json.at("created_earlier").to_number<std::uint64_t>() == 1u);
    BOOST_TEST(std::abs(json.at("latency_ms").at("max").as_double() - 84.2) < 1e-9);
    BOOST_TEST(std::abs(json.at("latency_ms").at("p50").as_double() - 12.5) <= 0.125);
    BOOST_TEST(json.at("wall_seconds").as_double() >= 0.0);
    BOOST_TEST(json.at("requests_per_second").is_double());
}

BOOST_AUTO_TEST_CASE(summary_json_without_answers_has_null_latency) {
    run_report r;
    r.finish();
    std::ostringstream out;
    write_summary_json(r.summary({}), out);
    BOOST_TEST(boost::json::parse(out.str()).at("latency_ms").is_null());
}

BOOST_AUTO_TEST_CASE(rate_history_min_median_by_time_and_final) {
    rate_history h;
    const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
    BOOST_TEST(!h.summarize(t0));
    BOOST_TEST(!h.current());
    h.set(100, t0);
    h.set(50, t0 + 1s);   // 100 for 1 s
    h.set(80, t0 + 4s);   // 50 for 3 s, then 80 for 1 s
    const auto f = h.summarize(t0 + 5s);
    BOOST_REQUIRE(f);
    BOOST_TEST(f->min == 50);
    BOOST_TEST(f->median == 50);   // in force for 3 of the 5 seconds
    BOOST_TEST(f->final == 80);
    BOOST_TEST(*h.current() == 80);
    h.set(120, t0 + 5s);
    const auto g = h.summarize(t0 + 15s);   // 120 for 10 of 15 s
    BOOST_TEST(g->median == 120);
    BOOST_TEST(g->min == 50);
    BOOST_TEST(g->final == 120);
}

BOOST_AUTO_TEST_CASE(the_adaptive_rate_in_the_summary_and_the_progress_line) {
    run_report r;
    r.rate_changed(294, std::chrono::steady_clock::now());
    r.finish();
    std::ostringstream table;
    write_summary_table(r.summary({}), table);
    BOOST_TEST(table.str().find("  auto rate /s      min 294.0  median 294.0  final 294.0\n") != std::string::npos,
               table.str());
    std::ostringstream json_text;
    write_summary_json(r.summary({}), json_text);
    const auto json = boost::json::parse(json_text.str());
    BOOST_TEST(json.at("rate").at("final").to_number<double>() == 294.0);
    BOOST_TEST(json.at("rate").at("min").to_number<double>() == 294.0);

    std::ostringstream out;
    progress_printer progress(r, std::nullopt, true, out);
    progress.tick(std::chrono::steady_clock::time_point{} + 1h);
    BOOST_TEST(out.str() == "\r0 | 0 req/s | ok 0 failed 0 | in flight 0 | auto 294.0/s\x1b[K");
    // Without --rate auto there is no such line.
    run_report fixed;
    fixed.finish();
    std::ostringstream fixed_table;
    write_summary_table(fixed.summary({}), fixed_table);
    BOOST_TEST(fixed_table.str().find("auto rate") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(terminal_progress_redraws_one_line) {
    run_report r;
    std::ostringstream out;
    progress_printer progress(r, 100, true, out);
    const auto t0 = std::chrono::steady_clock::time_point{} + 1h;

    progress.tick(t0);
    BOOST_TEST(out.str() == "\r0/100 (0.0%) | 0 req/s | ok 0 failed 0 | in flight 0\x1b[K");

    for (int i = 0; i < 50; ++i) r.row_finished(finished(outcome::created, 200, 10));
    r.row_finished(finished(outcome::failed, 500, 10));
    for (int i = 0; i < 60; ++i) r.request_started();
    for (int i = 0; i < 28; ++i) r.request_finished();   // 32 still in flight
    out.str("");
    progress.tick(t0 + 50ms);   // too soon: a redraw at most every 100 ms
    BOOST_TEST(out.str().empty());

    progress.tick(t0 + 10s);
    BOOST_TEST(out.str() == "\r51/100 (51.0%) | 6 req/s | ok 50 failed 1 | in flight 32 | ETA 0:10\x1b[K");

    out.str("");
    progress.finish();
    BOOST_TEST(out.str() == "\r51/100 (51.0%) | 6 req/s | ok 50 failed 1 | in flight 32 | ETA 0:10\x1b[K\n");
}

BOOST_AUTO_TEST_CASE(progress_shows_a_retry_after_pause) {
    run_report r;
    std::ostringstream out;
    progress_printer progress(r, std::nullopt, true, out);
    const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
    r.rate_limit_paused(t0 + 3599s + 500ms);
    progress.tick(t0);
    BOOST_TEST(out.str() == "\r0 | 0 req/s | ok 0 failed 0 | in flight 0 | paused by Retry-After, 1:00:00 left\x1b[K");
    out.str("");
    progress.tick(t0 + 3600s);   // the pause is over: no longer shown
    BOOST_TEST(out.str() == "\r0 | 0 req/s | ok 0 failed 0 | in flight 0\x1b[K");
}

BOOST_AUTO_TEST_CASE(log_progress_every_ten_seconds) {
    run_report r;
    std::ostringstream out;
    progress_printer progress(r, std::nullopt, false, out);
    const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
    for (int second = 0; second <= 25; ++second) {
        for (int i = 0; i < (second == 0 ? 0 : 100); ++i) {
            r.request_started();
            r.request_finished();
        }
        progress.tick(t0 + std::chrono::seconds(second));
    }
    // Lines at 10 s and 20 s; unknown total: no fraction, no ETA, no terminal codes.
    BOOST_TEST(out.str() == "0 | 100 req/s | ok 0 failed 0 | in flight 0\n"
                            "0 | 100 req/s | ok 0 failed 0 | in flight 0\n");
    progress.finish();
    BOOST_TEST(occurrences(out.str(), "\n") == 3u);
    BOOST_TEST(out.str().find('\r') == std::string::npos);
    BOOST_TEST(out.str().find("ETA") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(eta_in_hours) {
    run_report r;
    std::ostringstream out;
    progress_printer progress(r, 100'000, false, out);
    const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
    progress.tick(t0);
    for (int i = 0; i < 10; ++i) r.row_finished(finished(outcome::created, 200, 10));
    progress.tick(t0 + 10s);   // 1 row/s, 99 990 to go
    BOOST_TEST(out.str().find("| ETA 27:46:30\n") != std::string::npos, out.str());
}

BOOST_AUTO_TEST_CASE(nothing_printed_before_the_first_tick) {
    run_report r;
    std::ostringstream out;
    progress_printer progress(r, 10, true, out);
    progress.finish();
    BOOST_TEST(out.str().empty());
}

BOOST_AUTO_TEST_SUITE_END()
