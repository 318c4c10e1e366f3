// Flow control against a faulty mock (issue 4): whatever the faults, every
// row ends in exactly one known outcome and no key gets two chats.
#include <boost/test/unit_test.hpp>
#include <set>

#include "integration/support.hpp"
#include "invent_dispatch/mock.hpp"

using namespace test_support;
using invent_dispatch::mock_config;
using invent_dispatch::mock_server;

namespace {

constexpr int fault_rows = 5000;

struct batch {
    process_result result;
    std::vector<boost::json::object> journal;
    std::string stats;
};

batch run_against(const mock_config& config, int rows, std::vector<std::string> extra = {}) {
    temp_dir dir;
    mock_server mock(config);
    write_text(dir / "ca.pem", mock.ca_pem());
    const auto input = dir / "contacts.csv";
    write_contacts_csv(input, rows);
    std::vector<std::string> args{"run", input.string(), "--base-url", mock.url(), "--ca-file",
                                  (dir / "ca.pem").string(), "--quiet", "--concurrency", "32",
                                  "--timeout", "5s", "--seed", "7"};
    args.insert(args.end(), extra.begin(), extra.end());
    batch b;
    b.result = run_binary(args, {{"INVENT_API_TOKEN", config.token}}, dir.path);
    b.journal = read_journal(dir / "contacts.csv.results.jsonl");
    b.stats = mock.stats_json();
    return b;
}

// The invariants of issue 4, for a fresh journal.
void check_invariants(const batch& b, int rows) {
    std::map<std::int64_t, int> finals_per_line;
    for (const auto& r : b.journal) {
        const auto outcome = str(r, "outcome");
        if (!outcome.empty() && outcome != "sending") ++finals_per_line[r.at("line").as_int64()];
    }
    BOOST_TEST(finals_per_line.size() == static_cast<std::size_t>(rows));
    for (const auto& [line, count] : finals_per_line) BOOST_TEST(count == 1, "line " << line);

    const auto ledger = ledger_of(b.stats);
    std::set<std::string> unknown, ambiguous;
    for (const auto& [key, r] : final_by_key(b.journal)) {
        const auto outcome = str(r, "outcome");
        const auto found = ledger.find(key);
        if (outcome == "created") {
            BOOST_TEST((found != ledger.end() && found->second.count == 1), key << " created once");
            BOOST_TEST((found != ledger.end() && found->second.ids.front() == str(r, "chat_id")), key);
        } else if (outcome == "failed" || outcome == "invalid") {
            BOOST_TEST((found == ledger.end()), key << " is " << outcome << " but in the ledger");
        } else if (outcome == "unknown") {
            unknown.insert(key);
        }
    }
    for (const auto& [key, entry] : ledger) {
        BOOST_TEST(entry.count == 1, key << " has " << entry.count << " chats");
        if (entry.ambiguous > 0) ambiguous.insert(key);
    }
    BOOST_TEST((unknown == ambiguous), unknown.size() << " unknown rows, " << ambiguous.size() << " ambiguous chats");
}

std::int64_t responses_with(const std::string& stats, const char* status) {
    const auto parsed = boost::json::parse(stats);
    const auto* count = parsed.at("responses").as_object().if_contains(status);
    return count ? count->to_number<std::int64_t>() : 0;
}

} // namespace

BOOST_AUTO_TEST_SUITE(faults)

BOOST_AUTO_TEST_CASE(server_errors_are_retried) {
    mock_config config;
    config.error_rates = {{500, 0.05}, {502, 0.02}, {503, 0.03}, {504, 0.02}, {408, 0.01}};
    config.retry_after = "0";
    // With the default 5 attempts a 13% error rate still fails a row of
    // 5,000 now and then (0.13^5 * 5000 = 0.19); 10 attempts make that 7e-6.
    const auto b = run_against(config, fault_rows, {"--max-attempts", "10"});
    check_invariants(b, fault_rows);
    BOOST_TEST(responses_with(b.stats, "500") > 0);
    BOOST_TEST(b.result.exit_code == 0, b.result.err);
}

BOOST_AUTO_TEST_CASE(client_errors_are_not_retried) {
    mock_config config;
    config.error_rates = {{404, 0.05}, {400, 0.02}};
    const auto b = run_against(config, fault_rows);
    check_invariants(b, fault_rows);
    std::size_t failed = 0;
    for (const auto& [key, r] : final_by_key(b.journal)) {
        if (str(r, "outcome") != "failed") continue;
        ++failed;
        BOOST_TEST(r.at("attempts").as_int64() == 1);
    }
    BOOST_TEST(failed > 0u);
    BOOST_TEST(b.result.exit_code == 1);
}

BOOST_AUTO_TEST_CASE(dropped_connections_before_reading_are_retried) {
    mock_config config;
    config.drop_on_accept = 0.3;
    // Each of the 32 first connections fails all 5 default attempts with
    // p = 0.3^5; 10 attempts keep a whole-batch success certain in practice.
    const auto b = run_against(config, fault_rows, {"--max-attempts", "10"});
    check_invariants(b, fault_rows);
    BOOST_TEST(stat_of(b.stats, "dropped_on_accept") > 0);
    BOOST_TEST(b.result.exit_code == 0, b.result.err);
}

BOOST_AUTO_TEST_CASE(unanswered_requests_are_unknown_not_retried) {
    mock_config config;
    config.drop_before_response = 0.02;
    const auto b = run_against(config, fault_rows);
    check_invariants(b, fault_rows);
    BOOST_TEST(stat_of(b.stats, "dropped_before_response") > 0);
    BOOST_TEST(b.result.exit_code == 1);
}

BOOST_AUTO_TEST_CASE(ambiguous_retries_with_idempotency_end_created_once) {
    mock_config config;
    config.drop_before_response = 0.02;
    config.honour_idempotency = true;
    const auto b = run_against(config, fault_rows, {"--retry-ambiguous"});
    BOOST_TEST(b.result.exit_code == 0, b.result.err);
    const auto ledger = ledger_of(b.stats);
    for (const auto& [key, r] : final_by_key(b.journal)) {
        BOOST_TEST(str(r, "outcome") == "created", key);
        BOOST_TEST(ledger.at(key).count == 1, key);
    }
    BOOST_TEST(stat_of(b.stats, "idempotent_replays") > 0);
}

BOOST_AUTO_TEST_CASE(connection_close_and_idle_timeouts_are_honoured) {
    mock_config config;
    config.max_requests_per_connection = 7;
    config.idle_timeout = std::chrono::milliseconds(50);
    // A client rate leaves connections idle between requests, so the server's idle close is met.
    const auto b = run_against(config, 2000, {"--rate", "400", "--burst", "20"});
    check_invariants(b, 2000);
    BOOST_TEST(b.result.exit_code == 0, b.result.err);
    BOOST_TEST(stat_of(b.stats, "connections") > 2000 / 7);
}

BOOST_AUTO_TEST_CASE(malformed_bodies_fail_and_create_nothing) {
    mock_config config;
    config.malformed_rate = 0.05;
    const auto b = run_against(config, fault_rows);
    check_invariants(b, fault_rows);
    BOOST_TEST(stat_of(b.stats, "malformed") > 0);
    BOOST_TEST(b.result.exit_code == 1);
}

BOOST_AUTO_TEST_CASE(all_faults_together) {
    mock_config config;
    config.seed = 42;
    config.latency = std::chrono::milliseconds(1);
    config.latency_jitter = std::chrono::milliseconds(3);
    config.error_rates = {{500, 0.03}, {503, 0.02}, {429, 0.02}, {404, 0.01}};
    config.retry_after = "0";
    config.drop_before_response = 0.01;
    config.drop_on_accept = 0.05;
    config.max_requests_per_connection = 50;
    config.idle_timeout = std::chrono::milliseconds(200);
    config.malformed_rate = 0.01;
    const auto b = run_against(config, fault_rows);
    check_invariants(b, fault_rows);
    BOOST_TEST(b.result.exit_code == 1);
}

BOOST_AUTO_TEST_CASE(a_client_rate_below_the_server_limit_meets_no_429) {
    mock_config config;
    config.rate_limit = 200;
    const auto b = run_against(config, 1500, {"--rate", "150", "--burst", "5"});
    BOOST_TEST(b.result.exit_code == 0, b.result.err);
    BOOST_TEST(responses_with(b.stats, "429") == 0);
    BOOST_TEST(stat_of(b.stats, "created") == 1500);
}

BOOST_AUTO_TEST_CASE(without_a_client_rate_429s_are_honoured_and_the_batch_completes) {
    mock_config config;
    config.rate_limit = 200;
    config.retry_after = "1";
    const auto b = run_against(config, 1500, {"--max-attempts", "20"});
    BOOST_TEST(b.result.exit_code == 0, b.result.err);
    BOOST_TEST(responses_with(b.stats, "429") > 0);
    check_invariants(b, 1500);
}

BOOST_AUTO_TEST_SUITE_END()
