// What an operator meets on day one (issue 11): --strict, the token, the
// base URL's port, Retry-After over the cap, the deadline, runs of rows that
// are not sent, and failed rows in the log.
#include <boost/test/unit_test.hpp>

#include <algorithm>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "integration/support.hpp"
#include "invent_dispatch/mock.hpp"

using namespace test_support;
using invent_dispatch::mock_config;
using invent_dispatch::mock_server;
using namespace std::chrono_literals;

namespace {

// A loopback socket listening with `backlog` that nobody accepts from: the
// kernel completes up to backlog + 1 connections itself, then drops SYNs.
class unaccepted_listener {
public:
    explicit unaccepted_listener(int backlog) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        BOOST_REQUIRE(fd_ >= 0);
        address_.sin_family = AF_INET;
        address_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t size = sizeof address_;
        BOOST_REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address_), size) == 0);
        BOOST_REQUIRE(::listen(fd_, backlog) == 0);
        BOOST_REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address_), &size) == 0);
    }
    ~unaccepted_listener() { ::close(fd_); }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(ntohs(address_.sin_port)); }

protected:
    int fd_ = -1;
    sockaddr_in address_{};
};

// The kernel accepts, nobody answers; afterwards it tells whether anyone
// connected (a connection waits in the backlog even after the client left).
class silent_listener : public unaccepted_listener {
public:
    silent_listener() : unaccepted_listener(16) {}
    bool anyone_connected() const {
        const int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (client >= 0) ::close(client);
        return client >= 0;
    }
};

// Its accept queue full: a connect to it hangs, like a black-holed port.
class full_listener : public unaccepted_listener {
public:
    full_listener() : unaccepted_listener(0) {
        filler_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        BOOST_REQUIRE(::connect(filler_, reinterpret_cast<const sockaddr*>(&address_), sizeof address_) == 0);
    }
    ~full_listener() { ::close(filler_); }

private:
    int filler_ = -1;
};

std::vector<std::string> mock_args(const mock_server& mock, const temp_dir& dir, const fs::path& input) {
    write_file(dir / "ca.pem", mock.ca_pem());
    return {"run", input.string(), "--base-url", mock.url(), "--ca-file", (dir / "ca.pem").string(), "--quiet"};
}

// 1,001 rows, the 501st without a channel id (line 502).
std::string contacts_with_one_bad_row() {
    std::string csv = "contact_id,channel_id,first_name\n";
    for (int i = 0; i < 1001; ++i)
        csv += "c_" + std::to_string(i) + "," + (i == 500 ? std::string() : "ch_1") + ",Name\n";
    return csv;
}

// A mock that answers 429 with this Retry-After above `rate` requests a second.
mock_config rate_limited(double rate, std::string retry_after) {
    mock_config config;
    config.rate_limit = rate;
    config.retry_after = std::move(retry_after);
    return config;
}

// `lines` rows without a channel id: every one invalid.
fs::path write_bad_rows(const fs::path& path, int lines) {
    std::string csv = "contact_id,channel_id\n";
    csv.reserve(csv.size() + static_cast<std::size_t>(lines) * 4);
    for (int i = 0; i < lines; ++i) csv += "c,\n";
    write_file(path, csv);
    return path;
}

std::size_t records_with(const std::vector<boost::json::object>& journal, const std::string& outcome) {
    return static_cast<std::size_t>(
        std::count_if(journal.begin(), journal.end(), [&](const auto& r) { return str(r, "outcome") == outcome; }));
}

// Every `sending` record has a final record for its row after it.
void check_no_dangling_sends(const std::vector<boost::json::object>& journal) {
    std::map<std::pair<std::int64_t, std::string>, int> open;
    for (const auto& r : journal) {
        if (!r.contains("outcome")) continue;
        const auto row = std::pair{r.at("line").as_int64(), str(r, "key")};
        if (str(r, "outcome") == "sending")
            ++open[row];
        else if (open[row] > 0)
            --open[row];
    }
    for (const auto& [row, count] : open) BOOST_TEST(count == 0, "line " << row.first << " left sending");
}

// Without reaping it: child_process::wait still gets its status.
bool has_exited(pid_t pid) {
    siginfo_t info{};
    return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
}

std::size_t position_of(const std::string& text, const std::string& part) {
    const auto at = text.find(part);
    BOOST_TEST(at != std::string::npos, "no '" << part << "' in: " << text);
    return at;
}

}   // namespace

BOOST_AUTO_TEST_SUITE(operations)

BOOST_AUTO_TEST_CASE(strict_with_one_bad_row_sends_nothing) {
    temp_dir dir;
    mock_server mock(mock_config{});
    const auto input = dir / "contacts.csv";
    write_file(input, contacts_with_one_bad_row());
    auto args = mock_args(mock, dir, input);
    args.push_back("--strict");
    const auto result = run_binary(args, {{"INVENT_API_TOKEN", "demo-token"}}, dir.path);
    BOOST_TEST(result.exit_code == 2, result.err);
    BOOST_TEST(stat_of(mock.stats_json(), "requests") == 0);
    // The problems as validate prints them, and no journal at all.
    BOOST_TEST(result.err.find(input.string() + ":502: ") != std::string::npos, result.err);
    BOOST_TEST(result.err.find("1001 rows, 1000 valid, 1 invalid") != std::string::npos, result.err);
    BOOST_TEST(!fs::exists(dir / "contacts.csv.results.jsonl"));
}

BOOST_AUTO_TEST_CASE(strict_reads_standard_input_twice_through_a_spool) {
    temp_dir dir;
    mock_server mock(mock_config{});
    auto args = mock_args(mock, dir, "-");
    args.insert(args.end(), {"--format", "csv", "--strict", "--results", (dir / "out.jsonl").string()});
    // From a pipe: one bad row, nothing sent.
    auto refused = run_binary(args, {{"INVENT_API_TOKEN", "demo-token"}}, dir.path, contacts_with_one_bad_row());
    BOOST_TEST(refused.exit_code == 2, refused.err);
    BOOST_TEST(refused.err.find("<stdin>:502: ") != std::string::npos, refused.err);
    BOOST_TEST(stat_of(mock.stats_json(), "requests") == 0);
    BOOST_TEST(!fs::exists(dir / "out.jsonl"));
    // A clean pipe: checked, then every row sent from the spooled copy.
    std::string clean = "contact_id,channel_id\n";
    for (int i = 0; i < 1001; ++i) clean += "c_" + std::to_string(i) + ",ch_1\n";
    const auto sent = run_binary(args, {{"INVENT_API_TOKEN", "demo-token"}}, dir.path, clean);
    BOOST_TEST(sent.exit_code == 0, sent.err);
    BOOST_TEST(ledger_of(mock.stats_json()).size() == 1001u);
}

BOOST_AUTO_TEST_CASE(a_token_with_a_line_break_is_refused_before_anything_is_sent) {
    temp_dir dir;
    silent_listener server;
    const auto input = dir / "contacts.csv";
    write_contacts_csv(input, 3);
    for (const std::string token : {"s3cr3t\r\nX-Injected: yes", "s3cr3t\nX-Injected: yes", "s3cr3t\x01"}) {
        const auto result = run_binary({"run", input.string(), "--base-url", server.url(), "--quiet"},
                                       {{"INVENT_API_TOKEN", token}}, dir.path);
        BOOST_TEST(result.exit_code == 2, result.err);
        BOOST_TEST(result.err.find("control character") != std::string::npos, result.err);
        BOOST_TEST(result.err.find("s3cr3t") == std::string::npos, result.err);
        BOOST_TEST(result.err.find("Injected") == std::string::npos, result.err);
    }
    BOOST_TEST(!server.anyone_connected());
}

BOOST_AUTO_TEST_CASE(a_token_file_with_a_bom_and_crlf_sends_the_clean_token) {
    temp_dir dir;
    mock_config config;
    config.token = "clean-token";
    mock_server mock(config);
    const auto input = dir / "contacts.csv";
    write_contacts_csv(input, 5);
    write_file(dir / "token", "\xEF\xBB\xBF"
                              "clean-token\r\n");
    auto args = mock_args(mock, dir, input);
    args.insert(args.end(), {"--token-file", (dir / "token").string()});
    const auto result = run_binary(args, {}, dir.path);
    // The mock answers 401 to any other bearer token.
    BOOST_TEST(result.exit_code == 0, result.err);
    BOOST_TEST(ledger_of(mock.stats_json()).size() == 5u);
}

BOOST_AUTO_TEST_CASE(a_port_out_of_range_is_refused_not_wrapped) {
    temp_dir dir;
    const auto input = dir / "contacts.csv";
    write_contacts_csv(input, 1);
    for (const auto* port : {"0", "65536", "99999"}) {
        const auto result = run_binary({"run", input.string(), "--base-url", std::string("http://127.0.0.1:") + port},
                                       {{"INVENT_API_TOKEN", "t"}}, dir.path);
        BOOST_TEST(result.exit_code == 2, port);
        BOOST_TEST(result.err.find("the port must be 1-65535") != std::string::npos, result.err);
    }
}

BOOST_AUTO_TEST_CASE(retry_after_over_the_cap_stops_the_batch_and_the_next_run_finishes_it) {
    temp_dir dir;
    const auto input = dir / "contacts.csv";
    write_contacts_csv(input, 40);
    const auto limited = rate_limited(1.0, "3600");
    std::string first_stats;
    {
        mock_server mock(limited);
        auto args = mock_args(mock, dir, input);
        args.insert(args.end(), {"--concurrency", "4"});
        child_process child(args, {{"INVENT_API_TOKEN", "demo-token"}}, dir.path);
        // Before the cap it paused for the hour: a bound on the wait, not a speed check.
        BOOST_REQUIRE(wait_for([&] { return has_exited(child.pid()); }, 120s));
        const auto result = child.wait();
        BOOST_TEST(result.exit_code == 3, result.err);
        BOOST_TEST(result.err.find("asked to wait 3600 s (Retry-After), more than --max-retry-after (600 s)") !=
                       std::string::npos,
                   result.err);
        first_stats = mock.stats_json();
    }
    const auto journal = read_journal(dir / "contacts.csv.results.jsonl");
    check_no_dangling_sends(journal);
    BOOST_TEST(records_with(journal, "unknown") == 0u);
    BOOST_TEST(records_with(journal, "created") < 40u);

    mock_server open(mock_config{});
    const auto rerun = run_binary(mock_args(open, dir, input), {{"INVENT_API_TOKEN", "demo-token"}}, dir.path);
    BOOST_TEST(rerun.exit_code == 0, rerun.err);
    // Between the two servers every contact has exactly one chat.
    auto chats = ledger_of(first_stats);
    for (const auto& [key, entry] : ledger_of(open.stats_json())) chats[key].count += entry.count;
    BOOST_TEST(chats.size() == 40u);
    for (const auto& [key, entry] : chats) BOOST_TEST(entry.count == 1, key);
}

BOOST_AUTO_TEST_CASE(a_retry_after_pause_is_logged_with_its_end) {
    temp_dir dir;
    const auto input = dir / "contacts.csv";
    write_contacts_csv(input, 12);
    mock_server mock(rate_limited(4.0, "1"));
    auto args = mock_args(mock, dir, input);
    args.insert(args.end(), {"--max-attempts", "20"});
    const auto result = run_binary(args, {{"INVENT_API_TOKEN", "demo-token"}}, dir.path);
    BOOST_TEST(result.exit_code == 0, result.err);
    BOOST_TEST(result.err.find("HTTP 429 with Retry-After: no request leaves until 20") != std::string::npos,
               result.err);
    BOOST_TEST(ledger_of(mock.stats_json()).size() == 12u);
}

BOOST_AUTO_TEST_CASE(max_retry_after_from_the_config_file_lets_a_long_pause_through) {
    temp_dir dir;
    const auto input = dir / "contacts.csv";
    write_contacts_csv(input, 3);
    mock_server mock(rate_limited(1.0, "2"));
    write_file(dir / "c.toml", "max_retry_after = \"1s\"\n");
    auto args = mock_args(mock, dir, input);
    args.insert(args.end(), {"--config", (dir / "c.toml").string(), "--concurrency", "3"});
    const auto capped = run_binary(args, {{"INVENT_API_TOKEN", "demo-token"}}, dir.path);
    BOOST_TEST(capped.exit_code == 3, capped.err);
    BOOST_TEST(capped.err.find("more than --max-retry-after (1 s)") != std::string::npos, capped.err);
    args.insert(args.end(), {"--max-retry-after", "5s"});   // the flag beats the file
    const auto honoured = run_binary(args, {{"INVENT_API_TOKEN", "demo-token"}}, dir.path);
    BOOST_TEST(honoured.exit_code == 0, honoured.err);
    BOOST_TEST(ledger_of(mock.stats_json()).size() == 3u);
}

BOOST_AUTO_TEST_CASE(the_deadline_acts_at_the_deadline_against_a_server_that_never_answers) {
    temp_dir dir;
    silent_listener server;   // the kernel accepts, nobody answers
    const auto input = dir / "contacts.csv";
    write_contacts_csv(input, 5);
    const auto result = run_binary({"run", input.string(), "--base-url", server.url(), "--quiet", "--concurrency", "2",
                                    "--deadline", "300ms", "--drain-timeout", "300ms", "--timeout", "1h"},
                                   {{"INVENT_API_TOKEN", "t"}}, dir.path);
    BOOST_TEST(result.exit_code == 3, result.err);
    // Said when it happened, then the drain's end, then the summary.
    const auto deadline = position_of(result.err, "the --deadline (300 ms) passed: no new requests");
    const auto drain = position_of(result.err, "the drain timeout (300 ms) passed: closing 2 requests");
    const auto summary = position_of(result.err, "invent-dispatch summary");
    BOOST_TEST(deadline < drain);
    BOOST_TEST(drain < summary);
    const auto journal = read_journal(dir / "contacts.csv.results.jsonl");
    check_no_dangling_sends(journal);
    BOOST_TEST(records_with(journal, "sending") == 2u);
    BOOST_TEST(records_with(journal, "unknown") == 2u);   // the two in flight; the other rows are sent next time
    BOOST_TEST(final_by_key(journal).size() == 2u);
}

BOOST_AUTO_TEST_CASE(the_deadline_ends_a_connect_that_hangs) {
    temp_dir dir;
    full_listener server;
    const auto input = dir / "contacts.csv";
    write_contacts_csv(input, 5);
    child_process child({"run", input.string(), "--base-url", server.url(), "--quiet", "--concurrency", "2",
                         "--deadline", "300ms", "--timeout", "1h"},
                        {{"INVENT_API_TOKEN", "t"}}, dir.path);
    // Before, the connect went on until the kernel gave up (minutes): a bound on the wait.
    BOOST_REQUIRE(wait_for([&] { return has_exited(child.pid()); }, 60s));
    const auto result = child.wait();
    BOOST_TEST(result.exit_code == 3, result.err);
    BOOST_TEST(result.err.find("the --deadline (300 ms) passed") != std::string::npos, result.err);
    const auto journal = read_journal(dir / "contacts.csv.results.jsonl");
    // Nothing left: the next run sends every row. A worker that found another's
    // connection on its way wrote its intent and connects in send: that row ends failed.
    BOOST_TEST(records_with(journal, "sending") == records_with(journal, "failed"));
    BOOST_TEST(records_with(journal, "unknown") == 0u);
    BOOST_TEST(records_with(journal, "created") == 0u);
}

// A DNS server that never answers: a UDP socket on a loopback address. The
// binary runs in a mount namespace of its own (unshare) whose
// /etc/resolv.conf names it, with glibc told to wait 30 s per try, 5 tries.
class silent_dns {
public:
    static constexpr const char* address = "127.0.0.153";
    silent_dns() {
        fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        BOOST_REQUIRE(fd_ >= 0);
        sockaddr_in at{};
        at.sin_family = AF_INET;
        at.sin_port = htons(53);
        BOOST_REQUIRE(::inet_pton(AF_INET, address, &at.sin_addr) == 1);
        BOOST_REQUIRE_MESSAGE(::bind(fd_, reinterpret_cast<sockaddr*>(&at), sizeof at) == 0,
                              "cannot bind " << address << ":53: " << std::strerror(errno));
        resolv_conf_ =
            dir_.write("resolv.conf", std::string("nameserver ") + address + "\noptions timeout:30 attempts:5\n");
    }
    ~silent_dns() { ::close(fd_); }
    silent_dns(const silent_dns&) = delete;
    silent_dns& operator=(const silent_dns&) = delete;

    // The command line that runs the binary with this server as its resolver.
    std::vector<std::string> launcher() const {
        return {"/usr/bin/unshare",
                "--mount",
                "/bin/sh",
                "-c",
                "mount --bind " + resolv_conf_ + " /etc/resolv.conf && exec \"$@\"",
                "sh"};
    }
    // The queries it received so far (and did not answer): whether any asked for `name`.
    bool was_asked_for(const std::string& label) {
        char packet[512];
        for (;;) {
            const auto n = ::recv(fd_, packet, sizeof packet, 0);
            if (n <= 0) return asked_;
            // A query's name goes as length-prefixed labels.
            asked_ = asked_ || std::string(packet, static_cast<std::size_t>(n)).find(label) != std::string::npos;
        }
    }

private:
    temp_dir dir_;
    std::string resolv_conf_;
    int fd_ = -1;
    bool asked_ = false;
};

// Whether this machine lets a test bind-mount /etc/resolv.conf in a mount
// namespace of its own (root, or unprivileged user namespaces); CI runs as root.
boost::test_tools::assertion_result can_replace_resolv_conf(boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result ok(
        std::system("/usr/bin/unshare --mount /bin/sh -c 'mount --bind /dev/null /etc/resolv.conf' 2>/dev/null") == 0);
    ok.message() << "skipped: cannot run unshare --mount with /etc/resolv.conf bind-mounted (needs root)";
    return ok;
}

// Issue 12 finding 9: the name lookup ran before the request timeout was
// armed, and then the armed watchdog could not stop it either: Asio's
// resolver cancels no getaddrinfo under way, and the io_context waited for it.
// A lookup that never answers held the run for minutes. It is bounded by
// --timeout (the row fails with the reason) and by --deadline.
BOOST_AUTO_TEST_CASE(a_name_lookup_that_hangs_is_bounded_by_the_timeout_and_the_deadline,
                     *boost::unit_test::precondition(can_replace_resolv_conf)) {
    silent_dns dns;
    temp_dir dir;
    const auto input = dir / "contacts.csv";
    write_contacts_csv(input, 2);
    const std::string url = "https://hang.invent-dispatch.test:8443";
    {
        child_process child({"run", input.string(), "--base-url", url, "--quiet", "--concurrency", "1", "--timeout",
                             "300ms", "--max-attempts", "1"},
                            {{"INVENT_API_TOKEN", "t"}}, dir.path, std::nullopt, dns.launcher());
        // glibc gives up after minutes: a bound on the wait, not a speed check.
        const auto result = child.wait_at_most(60s);
        BOOST_REQUIRE_MESSAGE(result, "the run did not end: --timeout did not bound the lookup");
        BOOST_TEST(result->exit_code == 1, result->err);
        const auto finals = final_by_key(read_journal(dir / "contacts.csv.results.jsonl"));
        BOOST_TEST(finals.size() == 2u);
        for (const auto& [key, row] : finals) {
            BOOST_TEST(str(row, "outcome") == "failed");
            const auto error = str(row, "error");
            BOOST_TEST(error.find("cannot resolve hang.invent-dispatch.test: Connection timed out") !=
                           std::string::npos,
                       error);
        }
        BOOST_TEST(dns.was_asked_for("invent-dispatch"));
    }
    fs::remove(dir / "contacts.csv.results.jsonl");
    child_process child({"run", input.string(), "--base-url", url, "--quiet", "--deadline", "300ms", "--timeout", "1h"},
                        {{"INVENT_API_TOKEN", "t"}}, dir.path, std::nullopt, dns.launcher());
    const auto result = child.wait_at_most(60s);
    BOOST_REQUIRE_MESSAGE(result, "the run did not end: --deadline did not bound the lookup");
    BOOST_TEST(result->exit_code == 3, result->err);
    BOOST_TEST(result->err.find("the --deadline (300 ms) passed") != std::string::npos, result->err);
    BOOST_TEST(records_with(read_journal(dir / "contacts.csv.results.jsonl"), "created") == 0u);
}

BOOST_AUTO_TEST_CASE(a_long_run_of_bad_rows_gives_way_to_the_deadline) {
    temp_dir dir;
    const auto input = write_bad_rows(dir / "bad.csv", 1'000'000);
    const auto result =
        run_binary({"run", input.string(), "--base-url", "http://127.0.0.1:9", "--quiet", "--deadline", "1ms"},
                   {{"INVENT_API_TOKEN", "t"}}, dir.path);
    BOOST_TEST(result.exit_code == 3, result.err);
    BOOST_TEST(result.err.find("the --deadline (1 ms) passed") != std::string::npos, result.err);
    // It stopped in the middle of the run, not after it.
    const auto invalid = records_with(read_journal(dir / "bad.csv.results.jsonl"), "invalid");
    BOOST_TEST(invalid < 1'000'000u);
}

BOOST_AUTO_TEST_CASE(a_long_run_of_bad_rows_gives_way_to_sigint) {
    temp_dir dir;
    const auto input = write_bad_rows(dir / "bad.csv", 1'000'000);
    const auto journal_path = dir / "bad.csv.results.jsonl";
    child_process child({"run", input.string(), "--base-url", "http://127.0.0.1:9", "--quiet"},
                        {{"INVENT_API_TOKEN", "t"}}, dir.path);
    // Records reach the file while the rows are read (before, only at the end).
    // Its size, not its lines: counting a file growing by 70 MB/s can outlast the run.
    BOOST_REQUIRE(wait_for([&] { return fs::exists(journal_path) && fs::file_size(journal_path) > 64 * 1024; }));
    child.signal(SIGINT);
    const auto result = child.wait();
    BOOST_TEST(result.exit_code == 130, result.err);
    BOOST_TEST(records_with(read_journal(journal_path), "invalid") < 1'000'000u);
}

BOOST_AUTO_TEST_CASE(a_long_run_of_bad_rows_does_not_grow_memory) {
    temp_dir dir;
    const auto small = run_binary(
        {"run", write_bad_rows(dir / "small.csv", 10).string(), "--base-url", "http://127.0.0.1:9", "--quiet"},
        {{"INVENT_API_TOKEN", "t"}}, dir.path);
    const auto large = run_binary(
        {"run", write_bad_rows(dir / "large.csv", 300'000).string(), "--base-url", "http://127.0.0.1:9", "--quiet"},
        {{"INVENT_API_TOKEN", "t"}}, dir.path);
    BOOST_TEST(small.exit_code == 1, small.err);
    BOOST_TEST(large.exit_code == 1, large.err);
    BOOST_TEST(records_with(read_journal(dir / "large.csv.results.jsonl"), "invalid") == 300'000u);
    // 300,000 records are 78 MB of journal: written as they come, not held (the
    // duplicate check's key set, sized once for the rows counted, is the growth left).
    BOOST_TEST(large.max_rss_kib - small.max_rss_kib < 16 * 1024,
               small.max_rss_kib << " KiB vs " << large.max_rss_kib << " KiB");
}

BOOST_AUTO_TEST_CASE(failed_rows_are_logged_the_first_20_then_counted) {
    temp_dir dir;
    const auto input = dir / "contacts.csv";
    write_contacts_csv(input, 30);
    mock_config refusing;
    refusing.error_rates = {{422, 1.0}};
    mock_server mock(refusing);
    auto args = mock_args(mock, dir, input);
    args.insert(args.end(), {"--concurrency", "1"});
    const auto result = run_binary(args, {{"INVENT_API_TOKEN", "demo-token"}}, dir.path);
    BOOST_TEST(result.exit_code == 1, result.err);
    std::size_t one_by_one = 0;
    for (std::size_t at = 0; (at = result.err.find("[warning] line ", at)) != std::string::npos; ++at) ++one_by_one;
    BOOST_TEST(one_by_one == 20u, result.err);
    BOOST_TEST(result.err.find("line 2 (c/c_0/ch_0): failed: HTTP 422") != std::string::npos, result.err);
    BOOST_TEST(result.err.find("10 more rows failed or ended unknown") != std::string::npos, result.err);
}

BOOST_AUTO_TEST_SUITE_END()
