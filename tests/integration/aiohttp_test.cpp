// Against a stock aiohttp app (issue 10, item 3 in small): asyncio servers
// close idle keep-alive connections with a TLS close_notify and hold their
// FIN. With requests spaced beyond the keep-alive timeout, every connection
// the client reuses has been closed that way; a request written into one is
// never read. Every row must be created exactly once, by the server's count.
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <map>

#include "integration/support.hpp"
#include "invent_dispatch/mock.hpp"

using namespace test_support;

BOOST_AUTO_TEST_SUITE(aiohttp)

BOOST_AUTO_TEST_CASE(idle_close_notify_without_fin_loses_no_row) {
    temp_dir dir;
    const auto certificates = invent_dispatch::generate_certificates({"localhost"}, {"127.0.0.1"});
    write_file(dir / "ca.pem", certificates.ca_cert_pem);
    write_file(dir / "cert.pem", certificates.server_cert_pem);
    write_file(dir / "key.pem", certificates.server_key_pem);
    const auto log = dir / "received.log";
    const auto port_file = dir / "port";
    const std::string command = "/usr/bin/python3 " INVENT_SOURCE_DIR "/tests/integration/aiohttp_app.py '" +
                                (dir / "cert.pem").string() + "' '" + (dir / "key.pem").string() + "' '" +
                                log.string() + "' 1 > '" + port_file.string() + "' 2> '" +
                                (dir / "server.err").string() + "' & echo $! > '" + (dir / "pid").string() + "'";
    BOOST_REQUIRE(std::system(command.c_str()) == 0);
    struct stop_server {
        fs::path pid_file;
        ~stop_server() {
            const auto pid = read_file_if_any(pid_file);
            if (!pid.empty()) ::kill(std::stoi(pid), SIGTERM);
        }
    } stop{dir / "pid"};
    BOOST_REQUIRE_MESSAGE(wait_for([&] { return read_file_if_any(port_file).find('\n') != std::string::npos; }),
                          "the aiohttp app did not start: " << read_file_if_any(dir / "server.err"));
    const auto port = read_file_if_any(port_file).substr(0, read_file_if_any(port_file).find('\n'));

    constexpr int rows = 20;
    const auto input = dir / "contacts.csv";
    write_contacts_csv(input, rows);
    // 1.5 s apart, beyond the 1 s keep-alive, over 4 workers: connections
    // are kept and taken up again after the server has closed them.
    const auto run =
        run_binary({"run", input.string(), "--base-url", "https://127.0.0.1:" + port, "--ca-file",
                    (dir / "ca.pem").string(), "--quiet", "--rate", "40/min", "--concurrency", "4", "--timeout", "10s"},
                   {{"INVENT_API_TOKEN", "test-token"}}, dir.path);
    BOOST_TEST(run.exit_code == 0, run.err);

    std::map<std::string, int> received;
    std::istringstream lines(read_file_if_any(log));
    for (std::string contact; std::getline(lines, contact);) ++received[contact];
    const auto finals = final_by_key(read_journal(dir / "contacts.csv.results.jsonl"));
    BOOST_TEST(finals.size() == static_cast<std::size_t>(rows));
    for (const auto& [key, r] : finals) {
        const auto contact = str(r, "contact_id");
        BOOST_TEST(str(r, "outcome") == "created", contact << ": " << str(r, "outcome") << " " << str(r, "error"));
        BOOST_TEST(received[contact] == 1, contact << " received " << received[contact] << " times");
    }
    BOOST_TEST(received.size() == static_cast<std::size_t>(rows));
}

BOOST_AUTO_TEST_SUITE_END()
