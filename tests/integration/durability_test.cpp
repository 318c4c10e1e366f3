// Durability and operations (issue 5): kill -9 and re-run, signals, torn
// journal lines, journal identity, shards, secrets, progress output.
#include <boost/test/unit_test.hpp>
#include <random>
#include <set>

#include "integration/mock_session.hpp"

using namespace test_support;
using invent_dispatch::mock_config;
using invent_dispatch::mock_server;

namespace {

bool journal_is_whole(const fs::path& path) {
    const auto text = read_file_if_any(path);
    if (!text.empty() && text.back() != '\n') return false;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        boost::system::error_code ec;
        boost::json::parse(line, ec);
        if (ec) return false;
    }
    return true;
}

// Keys whose `sending` record has no final record after it.
std::set<std::string> dangling_sends(const std::vector<boost::json::object>& records) {
    std::set<std::string> open;
    for (const auto& r : records) {
        const auto outcome = str(r, "outcome");
        if (outcome == "sending")
            open.insert(str(r, "key"));
        else if (!outcome.empty())
            open.erase(str(r, "key"));
    }
    return open;
}

}   // namespace

BOOST_AUTO_TEST_SUITE(durability)

BOOST_AUTO_TEST_CASE(killed_five_times_then_finished_no_contact_gets_two_chats) {
    constexpr int rows = 20000;
    constexpr int concurrency = 32;
    constexpr int kills = 5;
    mock_config config = slow_mock(1);
    config.honour_idempotency = true;   // only for the --retry-unknown run at the end
    session s(config);
    const auto input = s.dir / "contacts.csv";
    const auto journal = s.dir / "contacts.csv.results.jsonl";
    write_contacts_csv(input, rows);
    const auto args = s.args(input, {"--quiet", "--concurrency", std::to_string(concurrency)});

    std::mt19937 random(20261125);
    for (int k = 0; k < kills; ++k) {
        const auto before = fs::exists(journal) ? count_lines(journal) : 0;
        const auto kill_at = before + std::uniform_int_distribution<std::size_t>(500, 5000)(random);
        child_process run(args, s.env(), s.dir.path);
        BOOST_TEST_REQUIRE(wait_for([&] { return fs::exists(journal) && count_lines(journal) >= kill_at; }),
                           "run " << k << " never reached " << kill_at << " journal lines");
        run.signal(SIGKILL);
        BOOST_TEST(run.wait().exit_code == 128 + SIGKILL);
    }
    const auto finished = run_binary(args, s.env(), s.dir.path);
    BOOST_TEST(finished.exit_code <= 1, finished.err);

    auto records = read_journal(journal);
    auto finals = final_by_key(records);
    BOOST_TEST(finals.size() == static_cast<std::size_t>(rows));
    BOOST_TEST(dangling_sends(records).empty());
    auto ledger = ledger_of(s.mock.stats_json());
    std::size_t unknown = 0;
    for (const auto& [key, r] : finals) {
        const auto outcome = str(r, "outcome");
        if (outcome == "created")
            BOOST_TEST((ledger.count(key) == 1 && ledger.at(key).count == 1), key);
        else
            BOOST_TEST(outcome == "unknown", key << " ended " << outcome);
        unknown += outcome == "unknown";
    }
    for (const auto& [key, entry] : ledger) BOOST_TEST(entry.count == 1, key << " has " << entry.count << " chats");
    BOOST_TEST(unknown <= static_cast<std::size_t>(concurrency * kills));
    BOOST_TEST_MESSAGE("unknown after " << kills << " kills: " << unknown);

    // The unknown rows, sent again with the same Idempotency-Key, end created once.
    auto retry_args = args;
    retry_args.push_back("--retry-unknown");
    const auto retried = run_binary(retry_args, s.env(), s.dir.path);
    BOOST_TEST(retried.exit_code == 0, retried.err);
    finals = final_by_key(read_journal(journal));
    ledger = ledger_of(s.mock.stats_json());
    for (const auto& [key, r] : finals) {
        BOOST_TEST(str(r, "outcome") == "created", key);
        BOOST_TEST(ledger.at(key).count == 1, key);
    }
}

BOOST_AUTO_TEST_CASE(first_sigint_drains_and_writes_journal_and_summary) {
    session s(slow_mock(20));
    const auto input = s.dir / "contacts.csv";
    const auto journal = s.dir / "contacts.csv.results.jsonl";
    write_contacts_csv(input, 20000);
    child_process run(s.args(input, {"--quiet", "--concurrency", "16", "--summary", (s.dir / "summary.json").string()}),
                      s.env(), s.dir.path);
    BOOST_TEST_REQUIRE(wait_for([&] { return fs::exists(journal) && count_lines(journal) > 200; }));
    run.signal(SIGINT);
    const auto result = run.wait();
    BOOST_TEST(result.exit_code == 130, result.err);
    BOOST_TEST(journal_is_whole(journal));
    BOOST_TEST(dangling_sends(read_journal(journal)).empty());   // in-flight requests were let finish
    BOOST_TEST(fs::exists(s.dir / "summary.json"));
    BOOST_TEST(result.err.find("created") != std::string::npos, result.err);

    // Running the same command again finishes the job.
    const auto resumed = run_binary(s.args(input, {"--quiet", "--concurrency", "64"}), s.env(), s.dir.path);
    BOOST_TEST(resumed.exit_code == 0, resumed.err);
    const auto ledger = ledger_of(s.mock.stats_json());
    BOOST_TEST(ledger.size() == 20000u);
    for (const auto& [key, entry] : ledger) BOOST_TEST(entry.count == 1, key);
}

BOOST_AUTO_TEST_CASE(rows_waiting_to_retry_when_stopped_keep_their_last_answer) {
    // Each 503 is retried at once (Retry-After: 0), and the retry then waits
    // about a second for its rate grant: the signal finds the row there.
    mock_config config;
    config.error_rates = {{503, 1.0}};
    config.retry_after = "0";
    session s(config);
    const auto input = s.dir / "contacts.csv";
    const auto journal = s.dir / "contacts.csv.results.jsonl";
    write_contacts_csv(input, 50);
    child_process run(s.args(input, {"--quiet", "--concurrency", "1", "--rate", "1"}), s.env(), s.dir.path);
    BOOST_TEST_REQUIRE(wait_for([&] { return stat_of(s.mock.stats_json(), "requests") > 0; }));
    run.signal(SIGINT);
    const auto result = run.wait();
    BOOST_TEST(result.exit_code == 130, result.err);
    // The rows that were tried have a record; the rest are for the next run.
    const auto finals = final_by_key(read_journal(journal));
    BOOST_TEST(finals.size() == static_cast<std::size_t>(stat_of(s.mock.stats_json(), "requests")));
    for (const auto& [key, r] : finals) {
        BOOST_TEST(str(r, "outcome") == "failed", key);
        BOOST_TEST(r.at("http_status").as_int64() == 503, key);
        const auto error = str(r, "error");
        BOOST_TEST(error.find("stopped before the next attempt") != std::string::npos, error);
        BOOST_TEST(error.find("HTTP 503: injected failure") != std::string::npos, error);
    }
}

BOOST_AUTO_TEST_CASE(sigterm_exits_143) {
    session s(slow_mock(20));
    const auto input = s.dir / "contacts.csv";
    const auto journal = s.dir / "contacts.csv.results.jsonl";
    write_contacts_csv(input, 20000);
    child_process run(s.args(input, {"--quiet"}), s.env(), s.dir.path);
    BOOST_TEST_REQUIRE(wait_for([&] { return fs::exists(journal) && count_lines(journal) > 100; }));
    run.signal(SIGTERM);
    BOOST_TEST(run.wait().exit_code == 143);
    BOOST_TEST(journal_is_whole(journal));
}

BOOST_AUTO_TEST_CASE(second_sigint_exits_at_once_with_the_journal_whole) {
    session s(slow_mock(30000));   // requests hang: only a second signal ends the run
    const auto input = s.dir / "contacts.csv";
    const auto journal = s.dir / "contacts.csv.results.jsonl";
    write_contacts_csv(input, 100);
    child_process run(s.args(input, {"--concurrency", "8", "--drain-timeout", "60s"}), s.env(), s.dir.path);
    // All eight at the server, not only journaled as sending: a stop closes a
    // connection still being made, and its row is then not sent at all.
    BOOST_TEST_REQUIRE(wait_for([&] { return stat_of(s.mock.stats_json(), "requests") == 8; }));
    BOOST_TEST_REQUIRE(dangling_sends(read_journal(journal)).size() == 8u);
    run.signal(SIGINT);
    BOOST_TEST_REQUIRE(wait_for([&] { return run.stderr_so_far().find("stopping") != std::string::npos; }));
    run.signal(SIGINT);
    BOOST_TEST(run.wait().exit_code == 130);
    BOOST_TEST(journal_is_whole(journal));
    BOOST_TEST(dangling_sends(read_journal(journal)).size() == 8u);

    // The next run records those eight as unknown and does not send them again.
    session fast;
    auto args = fast.args(input, {"--quiet", "--results", journal.string()});
    const auto resumed = run_binary(args, fast.env(), fast.dir.path);
    BOOST_TEST(resumed.exit_code == 1, resumed.err);
    const auto finals = final_by_key(read_journal(journal));
    std::size_t unknown = 0;
    for (const auto& [key, r] : finals) unknown += str(r, "outcome") == "unknown";
    BOOST_TEST(unknown == 8u);
    BOOST_TEST(ledger_of(fast.mock.stats_json()).size() == 92u);
}

BOOST_AUTO_TEST_CASE(a_torn_last_line_is_repaired) {
    session s;
    const auto input = s.dir / "contacts.csv";
    const auto journal = s.dir / "contacts.csv.results.jsonl";
    write_contacts_csv(input, 10);
    BOOST_TEST_REQUIRE(run_binary(s.args(input, {"--quiet"}), s.env(), s.dir.path).exit_code == 0);
    {
        std::ofstream append(journal, std::ios::app);
        append << R"({"line":4,"key":"c/c_2/ch_2","outcome":"crea)";
    }
    write_contacts_csv(input, 20);
    const auto result = run_binary(s.args(input, {"--quiet"}), s.env(), s.dir.path);
    BOOST_TEST(result.exit_code == 0, result.err);
    BOOST_TEST(result.err.find("torn") != std::string::npos, result.err);
    BOOST_TEST(journal_is_whole(journal));
    BOOST_TEST(final_by_key(read_journal(journal)).size() == 20u);
    BOOST_TEST(ledger_of(s.mock.stats_json()).size() == 20u);
}

BOOST_AUTO_TEST_CASE(a_journal_of_another_input_is_refused) {
    session s;
    const auto first = s.dir / "first.csv";
    const auto second = s.dir / "second.csv";
    const auto journal = s.dir / "shared.results.jsonl";
    write_contacts_csv(first, 5);
    write_contacts_csv(second, 5, "other_");
    BOOST_TEST_REQUIRE(
        run_binary(s.args(first, {"--quiet", "--results", journal.string()}), s.env(), s.dir.path).exit_code == 0);
    const auto result = run_binary(s.args(second, {"--quiet", "--results", journal.string()}), s.env(), s.dir.path);
    BOOST_TEST(result.exit_code == 2);
    BOOST_TEST(result.err.find("first.csv") != std::string::npos, result.err);
    BOOST_TEST(ledger_of(s.mock.stats_json()).size() == 5u);
}

BOOST_AUTO_TEST_CASE(three_shards_create_every_key_exactly_once) {
    session s;
    const auto input = s.dir / "contacts.csv";
    write_contacts_csv(input, 3000);
    std::vector<std::unique_ptr<child_process>> shards;
    for (int k = 0; k < 3; ++k) {
        const auto journal = s.dir / ("shard" + std::to_string(k) + ".jsonl");
        shards.push_back(std::make_unique<child_process>(
            s.args(input, {"--quiet", "--shard", std::to_string(k) + "/3", "--results", journal.string()}), s.env(),
            s.dir.path));
    }
    std::size_t total = 0;
    for (std::size_t k = 0; k < 3; ++k) {
        BOOST_TEST(shards[k]->wait().exit_code == 0);
        const auto finals = final_by_key(read_journal(s.dir / ("shard" + std::to_string(k) + ".jsonl")));
        BOOST_TEST(finals.size() > 500u);   // a stable hash spreads 3,000 keys over three shards
        total += finals.size();
    }
    BOOST_TEST(total == 3000u);
    const auto ledger = ledger_of(s.mock.stats_json());
    BOOST_TEST(ledger.size() == 3000u);
    for (const auto& [key, entry] : ledger) BOOST_TEST(entry.count == 1, key);
}

BOOST_AUTO_TEST_CASE(the_token_never_appears_in_any_output) {
    const std::string token = "sekret-TOKEN-7f3a9c";
    mock_config config;
    config.token = token;
    config.error_rates = {{500, 0.2}, {404, 0.1}};
    session s(config);
    s.mock_token = token;
    const auto input = s.dir / "contacts.csv";
    write_contacts_csv(input, 300);
    const auto log = s.dir / "trace.log";
    const auto summary = s.dir / "summary.json";
    const auto good =
        run_binary(s.args(input, {"--log-level", "trace", "--log-file", log.string(), "--summary", summary.string()}),
                   s.env(), s.dir.path);
    BOOST_TEST(good.exit_code == 1, good.err);
    const auto bad = run_binary(s.args(input, {"--log-level", "trace", "--results", (s.dir / "bad.jsonl").string()}),
                                {{"INVENT_API_TOKEN", token + "-wrong"}}, s.dir.path);
    BOOST_TEST(bad.exit_code == 3, bad.err);
    BOOST_TEST(good.out.empty());   // run writes to stderr and files only
    BOOST_TEST(bad.out.empty());
    for (const auto& output :
         {good.err, bad.err, read_file_if_any(log), read_file_if_any(summary),
          read_file_if_any(s.dir / "contacts.csv.results.jsonl"), read_file_if_any(s.dir / "bad.jsonl")}) {
        BOOST_TEST(!output.empty());
        BOOST_TEST(output.find(token) == std::string::npos, "the token leaked into: " << output.substr(0, 300));
        BOOST_TEST(output.find("Bearer") == std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(progress_is_a_live_line_on_a_terminal) {
    session s(slow_mock(10));
    const auto input = s.dir / "contacts.csv";
    write_contacts_csv(input, 400);
    // script(1) gives the child a pseudo-terminal and copies what it shows.
    std::string command = "INVENT_API_TOKEN=demo-token " + std::string(INVENT_BINARY);
    for (const auto& a : s.args(input, {"--concurrency", "4"})) command += " '" + a + "'";
    const auto typescript = s.dir / "typescript";
    const auto result = run_with_shell("script -qefc \"" + command + "\" " + typescript.string(), s.dir.path);
    BOOST_TEST(result == 0);
    const auto screen = read_file_if_any(typescript);
    BOOST_TEST(screen.find("400/400") != std::string::npos, screen.substr(0, 2000));
    BOOST_TEST(screen.find("\r") != std::string::npos);
    BOOST_TEST(screen.find("\x1b[K") != std::string::npos);
    BOOST_TEST(screen.find("req/s") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(progress_off_a_terminal_is_a_status_line_every_ten_seconds) {
    session s(slow_mock(100));
    const auto input = s.dir / "contacts.csv";
    write_contacts_csv(input, 500);   // ~12.5 s at concurrency 4 and 100 ms a request
    const auto result = run_binary(s.args(input, {"--concurrency", "4"}), s.env(), s.dir.path);
    BOOST_TEST(result.exit_code == 0, result.err);
    BOOST_TEST(result.err.find("\x1b[K") == std::string::npos);
    // One line after ten seconds and one at the end: the last alone is not progress.
    std::size_t status_lines = 0;
    for (auto at = result.err.find("/500 ("); at != std::string::npos; at = result.err.find("/500 (", at + 1))
        ++status_lines;
    BOOST_TEST(status_lines >= 2u, result.err);
}

BOOST_AUTO_TEST_SUITE_END()
