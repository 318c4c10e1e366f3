// A hostile server (issue 12): what it says reaches the log and the journal
// cleaned and bounded. A raw-socket server answers every request with exact
// bytes, over plain HTTP on loopback.
#include <boost/test/unit_test.hpp>

#include "integration/support.hpp"

using namespace test_support;

namespace {

// Answers every request on a connection with the same bytes; one connection
// at a time (the tests run with --concurrency 1).
class canned_server {
public:
    explicit canned_server(std::string reply) : reply_(std::move(reply)) {}
    std::string url() const { return server_.url(); }

private:
    std::string reply_;
    loopback_server server_{[this](boost::asio::ip::tcp::socket& socket, int) {
        boost::asio::streambuf pending;
        boost::system::error_code ec;
        while (!ec && read_http_request(socket, pending)) boost::asio::write(socket, boost::asio::buffer(reply_), ec);
    }};
};

std::string reply(const std::string& status, const std::string& body) {
    return "HTTP/1.1 " + status +
           "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

struct run_output {
    process_result result;
    std::vector<boost::json::object> journal;
    std::string journal_text;
};

run_output run_against(const canned_server& server, const std::string& token, int rows) {
    temp_dir dir;
    const auto input = dir / "contacts.csv";
    write_contacts_csv(input, rows);
    run_output out;
    out.result = run_binary(
        {"run", input.string(), "--base-url", server.url(), "--quiet", "--concurrency", "1", "--timeout", "5s"},
        {{"INVENT_API_TOKEN", token}}, dir.path);
    out.journal = read_journal(dir / "contacts.csv.results.jsonl");
    out.journal_text = read_file_if_any(dir / "contacts.csv.results.jsonl");
    return out;
}

}   // namespace

BOOST_AUTO_TEST_SUITE(hostile_server)

// Issue 12 finding 6: a 401 whose message echoes the Authorization header,
// with a newline and an escape sequence that would forge a log line.
BOOST_AUTO_TEST_CASE(server_messages_are_redacted_escaped_and_cut) {
    const std::string token = "tok_3b1f8e27c9d04a";
    const std::string message = "rejected Authorization: Bearer " + token +
                                "\\n2026-11-29T00:00:00.000 [info] all rows created\\u001b[2J" + std::string(4000, 'x');
    const canned_server server(reply("401 Unauthorized", R"({"message":")" + message + R"("})"));
    const auto out = run_against(server, token, 4);
    BOOST_TEST(out.result.exit_code != 0);
    BOOST_TEST(out.result.err.find(token) == std::string::npos, out.result.err);
    BOOST_TEST(out.journal_text.find(token) == std::string::npos);
    BOOST_TEST(out.result.err.find("\x1b") == std::string::npos);
    BOOST_TEST(out.result.err.find("\n2026-11-29T00:00:00.000 [info] all rows created") == std::string::npos);
    BOOST_TEST(out.result.err.find("[redacted]") != std::string::npos, out.result.err);
    std::size_t failed = 0;
    for (const auto& record : out.journal) {
        if (str(record, "outcome") != "failed") continue;
        ++failed;
        const auto error = str(record, "error");
        BOOST_TEST(error.find("HTTP 401: rejected Authorization: [redacted]") == 0, error);
        BOOST_TEST(error.find('\n') == std::string::npos);
        BOOST_TEST(error.size() < 600u, error.size());
        BOOST_TEST(error.find("[cut: ") != std::string::npos, error);
    }
    BOOST_TEST(failed > 0u);
}

// Issue 12 finding 8: a 200 whose id is 2 MiB made a journal line that size
// for every row. Each kept field is capped, and the record says so.
BOOST_AUTO_TEST_CASE(huge_chat_fields_are_capped_in_the_journal) {
    const std::string id(2 << 20, 'i');
    const canned_server server(reply("201 Created", R"({"id":")" + id + R"(","status":"RUNNING","link":")" +
                                                        std::string(3000, 'l') + R"("})"));
    const auto out = run_against(server, "tok", 3);
    BOOST_TEST(out.result.exit_code == 0, out.result.err);
    std::size_t created = 0;
    for (const auto& record : out.journal) {
        if (str(record, "outcome") != "created") continue;
        ++created;
        BOOST_TEST(str(record, "chat_id") ==
                   std::string(1024, 'i') + " [cut: " + std::to_string(id.size()) + " bytes]");
        BOOST_TEST(str(record, "link") == std::string(1024, 'l') + " [cut: 3000 bytes]");
        BOOST_TEST(str(record, "chat_status") == "RUNNING");
    }
    BOOST_TEST(created == 3u);
    BOOST_TEST(out.journal_text.size() < 20'000u);
}

// Issue 12 finding 9: the watchdog of a plain-HTTP answer fired while a read
// had completed and the next was not yet started, so it cancelled nothing,
// and the next read then waited forever. Made certain by stopping the client
// (SIGSTOP) before its answer comes and waking it once the timeout has long
// passed, with more body in its socket than one read takes: on waking, the
// read that finds data completes at once, the watchdog runs between two
// reads, and the server never sends the rest. The row must end unknown and
// the run must end.
BOOST_AUTO_TEST_CASE(a_watchdog_that_fires_between_two_reads_ends_the_answer) {
    constexpr auto timeout = std::chrono::milliseconds(200);
    std::atomic<pid_t> client{0};
    std::atomic<bool> woken{false};
    const loopback_server server([&](boost::asio::ip::tcp::socket& socket, int) {
        boost::asio::streambuf pending;
        if (!read_http_request(socket, pending)) return;
        BOOST_REQUIRE(wait_for([&] { return client.load() > 0; }));
        ::kill(client, SIGSTOP);
        // Six reads' worth of a 1 MiB body, then nothing more.
        const std::string head =
            "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(1 << 20) +
            "\r\n\r\n";
        boost::system::error_code ec;
        boost::asio::write(socket, boost::asio::buffer(head + "{\"id\":\"" + std::string(96 * 1024, 'i')), ec);
        // The client cannot run while stopped: when it wakes, its deadline has passed.
        std::this_thread::sleep_for(timeout * 5);
        ::kill(client, SIGCONT);
        woken = true;
        char byte = 0;
        socket.read_some(boost::asio::buffer(&byte, 1), ec);   // until the client closes
    });
    temp_dir dir;
    const auto input = dir / "contacts.csv";
    write_contacts_csv(input, 1);
    child_process run({"run", input.string(), "--base-url", server.url(), "--quiet", "--concurrency", "1", "--timeout",
                       std::to_string(timeout.count()) + "ms", "--max-attempts", "1"},
                      {{"INVENT_API_TOKEN", "tok"}}, dir.path);
    client = run.pid();
    const auto result = run.wait_at_most(std::chrono::seconds(60));
    BOOST_REQUIRE_MESSAGE(result, "the run did not end: a read was started after the watchdog fired");
    BOOST_TEST(woken.load());
    const auto finals = final_by_key(read_journal(dir / "contacts.csv.results.jsonl"));
    BOOST_TEST_REQUIRE(finals.size() == 1u);
    const auto& row = finals.begin()->second;
    BOOST_TEST(str(row, "outcome") == "unknown");
    BOOST_TEST(str(row, "error") == "HTTP 201: no answer after the request was sent: Connection timed out");
}

BOOST_AUTO_TEST_SUITE_END()
