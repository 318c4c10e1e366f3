// Flow control against a faulty mock (issue 4): whatever the faults, every
// row ends in exactly one known outcome and no key gets two chats.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include "integration/mock_session.hpp"
#include "invent_dispatch/mock.hpp"

using namespace test_support;
using invent_dispatch::mock_config;
using invent_dispatch::mock_server;

namespace {

constexpr int fault_rows = 5000;

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
        } else if (outcome == "unknown" && str(r, "error").rfind("HTTP 2", 0) == 0) {
            // A malformed 2xx: the mock created nothing, but the client cannot
            // know that, so the row is unknown (SPEC §1), and never sent twice.
            BOOST_TEST((found == ledger.end()), key << " is a malformed 2xx but in the ledger");
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

// A plain HTTP server for the stale-connection race, made exact: on its first
// connection it answers one request, waits until the next one has arrived,
// and closes with that request unread (a reset); later connections it serves.
class resetting_server {
    using tcp = boost::asio::ip::tcp;

public:
    std::string url() const { return server_.url(); }

    std::atomic<int> answered{0};
    std::atomic<int> resets{0};

private:
    void serve(tcp::socket& socket, int connection) {
        boost::asio::streambuf pending;
        boost::system::error_code ec;
        while (read_http_request(socket, pending)) {
            answer(socket);
            if (connection > 0) continue;
            socket.wait(tcp::socket::wait_read, ec);   // the next request is here
            socket.set_option(boost::asio::socket_base::linger(true, 0), ec);
            socket.close(ec);
            ++resets;
            break;
        }
    }
    void answer(tcp::socket& socket) {
        const std::string body = R"({"id":"chat_)" + std::to_string(++answered) + R"(","status":"RUNNING"})";
        const std::string reply =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
            "\r\n\r\n" + body;
        boost::system::error_code ignored;
        boost::asio::write(socket, boost::asio::buffer(reply), ignored);
    }

    // Last: its thread starts serving once the counters above exist.
    loopback_server server_{[this](tcp::socket& socket, int connection) { serve(socket, connection); }};
};

}   // namespace

BOOST_AUTO_TEST_SUITE(faults)

// A reset before any answer on a kept-alive connection means the server left
// the request unread: it goes again on a new connection, not down as unknown.
BOOST_AUTO_TEST_CASE(a_request_reset_unread_on_a_kept_alive_connection_is_sent_again) {
    temp_dir dir;
    resetting_server server;
    const auto input = dir / "contacts.csv";
    write_contacts_csv(input, 3);
    const auto result = run_binary({"run", input.string(), "--base-url", server.url(), "--quiet", "--concurrency", "1",
                                    "--summary", (dir / "summary.json").string()},
                                   {{"INVENT_API_TOKEN", "demo-token"}}, dir.path);
    BOOST_TEST(result.exit_code == 0, result.err);
    BOOST_TEST(server.resets == 1);
    BOOST_TEST(server.answered == 3);
    const auto finals = final_by_key(read_journal(dir / "contacts.csv.results.jsonl"));
    BOOST_TEST(finals.size() == 3u);
    for (const auto& [key, r] : finals) {
        BOOST_TEST(str(r, "outcome") == "created", key);
        BOOST_TEST(r.at("attempts").as_int64() == 1, key);   // a stale connection uses up no attempt
    }
    const auto summary = boost::json::parse(read_file_if_any(dir / "summary.json")).as_object();
    BOOST_TEST(summary.at("stale_reconnects").as_int64() == 1);
}

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

// Requests ten idle timeouts apart: kept-alive connections are closed by the
// server's idle timeout (its own count: nothing else closes a connection that
// waits for a request) and the next request takes a new one, the closed one
// found closed before a byte was written, so nothing is lost.
BOOST_AUTO_TEST_CASE(a_connection_idle_past_the_servers_timeout_is_closed_and_replaced) {
    mock_config config;
    config.idle_timeout = std::chrono::milliseconds(50);
    const auto b = run_against(config, 6, {"--rate", "2"});
    check_invariants(b, 6);
    BOOST_TEST(b.result.exit_code == 0, b.result.err);
    BOOST_TEST(stat_of(b.stats, "idle_closed") >= 1);
}

// A request sent and not answered within --timeout may have been acted on:
// it ends unknown, not failed, and is not sent again.
BOOST_AUTO_TEST_CASE(an_answer_later_than_the_timeout_leaves_the_row_unknown) {
    mock_config config;
    config.latency = std::chrono::milliseconds(3000);
    const auto b = run_against(config, 4, {"--timeout", "300ms"});
    BOOST_TEST(b.result.exit_code == 1, b.result.err);
    const auto finals = final_by_key(b.journal);
    BOOST_TEST(finals.size() == 4u);
    for (const auto& [key, r] : finals) {
        BOOST_TEST(str(r, "outcome") == "unknown", key);
        BOOST_TEST(r.at("attempts").as_int64() == 1, key);
        BOOST_TEST(str(r, "error").find("timed out") != std::string::npos, str(r, "error"));
    }
    BOOST_TEST(stat_of(b.stats, "requests") == 4);
}

BOOST_AUTO_TEST_CASE(malformed_bodies_are_unknown_and_create_nothing) {
    mock_config config;
    config.malformed_rate = 0.05;
    const auto b = run_against(config, fault_rows);
    check_invariants(b, fault_rows);
    BOOST_TEST(stat_of(b.stats, "malformed") > 0);
    std::int64_t unknown = 0;
    for (const auto& [key, r] : final_by_key(b.journal)) unknown += str(r, "outcome") == "unknown";
    BOOST_TEST(unknown == stat_of(b.stats, "malformed"));   // one answer each: not sent again
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
