// Through a real proxy: Debian's tinyproxy, started on loopback by each test,
// tunnels (CONNECT) the binary's connections to the bundled mock. The proxy's
// log and the mock's ledger are the record of what each saw.
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <mutex>
#include <thread>

#include "integration/support.hpp"
#include "invent_dispatch/mock.hpp"
#include "invent_dispatch/version.hpp"

using namespace test_support;
using invent_dispatch::mock_config;
using invent_dispatch::mock_server;

namespace {

bool accepts_connections(unsigned short port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    const bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    return connected;
}

// tinyproxy in the foreground with a config of our own; killed with the test.
class tinyproxy {
public:
    tinyproxy(const fs::path& dir, const std::string& basic_auth = "")
        : port_(unused_port()),
          log_(dir / "tinyproxy.log") {
        const auto config = dir / "tinyproxy.conf";
        write_file(config, "Port " + std::to_string(port_) +
                               "\nListen 127.0.0.1\nTimeout 600\nMaxClients 200\n"
                               "Allow 127.0.0.1\nLogLevel Info\nLogFile \"" +
                               log_.string() + "\"\n" + (basic_auth.empty() ? "" : "BasicAuth " + basic_auth + "\n"));
        const std::string out = (dir / "tinyproxy.out").string();
        std::vector<std::string> args{"tinyproxy", "-d", "-c", config.string()};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
        const int rc = ::posix_spawnp(&pid_, "tinyproxy", &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        BOOST_REQUIRE_MESSAGE(rc == 0, "cannot start tinyproxy (scripts/install-deps --test installs it)");
        BOOST_REQUIRE_MESSAGE(wait_for([&] { return accepts_connections(port_); }, std::chrono::seconds(20)),
                              "tinyproxy did not listen on " << port_ << ": " << read_file_if_any(out));
    }
    ~tinyproxy() {
        ::kill(pid_, SIGTERM);
        ::waitpid(pid_, nullptr, 0);
    }
    std::string url(const std::string& userinfo = "") const {
        return "http://" + (userinfo.empty() ? "" : userinfo + "@") + "127.0.0.1:" + std::to_string(port_);
    }
    std::string log() const { return read_file_if_any(log_); }
    // The CONNECT requests it took for host:port.
    std::size_t connects_to(const std::string& authority) const {
        const auto text = log();
        const std::string needle = "): CONNECT " + authority + " HTTP/1.1";
        std::size_t count = 0;
        for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
        return count;
    }

private:
    unsigned short port_;
    fs::path log_;
    pid_t pid_ = -1;
};

struct proxy_fixture {
    explicit proxy_fixture(int row_count, mock_config config = {}, const std::string& basic_auth = "")
        : rows(row_count),
          mock(std::move(config)),
          proxy(dir.path, basic_auth) {
        write_file(dir / "ca.pem", mock.ca_pem());
        write_contacts_csv(dir / "contacts.csv", rows);
    }
    // "127.0.0.1:PORT", as CONNECT names the mock.
    std::string mock_authority() const { return mock.url().substr(mock.url().find("://") + 3); }
    process_result run(std::vector<std::string> extra, env_map env = {}) const {
        std::vector<std::string> args{
            "run", (dir / "contacts.csv").string(), "--base-url", mock.url(), "--quiet", "--concurrency", "16"};
        if (mock.url().rfind("https", 0) == 0) args.insert(args.end(), {"--ca-file", (dir / "ca.pem").string()});
        args.insert(args.end(), extra.begin(), extra.end());
        env.emplace("INVENT_API_TOKEN", token);
        return run_binary(args, env, dir.path);
    }
    fs::path journal() const { return dir / "contacts.csv.results.jsonl"; }
    void every_row_created_once() const {
        const auto ledger = ledger_of(mock.stats_json());
        BOOST_TEST(ledger.size() == static_cast<std::size_t>(rows));
        for (const auto& [key, entry] : ledger) BOOST_TEST(entry.count == 1, key);
        const auto finals = final_by_key(read_journal(journal()));
        BOOST_TEST(finals.size() == static_cast<std::size_t>(rows));
        for (const auto& [key, r] : finals) BOOST_TEST(str(r, "outcome") == "created", key);
    }

    int rows;
    std::string token = "demo-token";
    temp_dir dir;
    mock_server mock;
    tinyproxy proxy;
};

// A proxy of scripted bytes: it records each CONNECT head it reads and
// answers it with `reply`, then closes (or, with an empty reply, stays silent
// until the client gives up).
class scripted_proxy {
public:
    explicit scripted_proxy(std::string reply) : reply_(std::move(reply)) {
        listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t size = sizeof address;
        BOOST_REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&address), size) == 0 &&
                      ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size) == 0 &&
                      ::listen(listener_, 16) == 0);
        port_ = ntohs(address.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~scripted_proxy() {
        ::shutdown(listener_, SHUT_RDWR);
        ::close(listener_);
        thread_.join();
    }
    std::string url(const std::string& userinfo = "") const {
        return "http://" + (userinfo.empty() ? "" : userinfo + "@") + "127.0.0.1:" + std::to_string(port_);
    }
    std::vector<std::string> heads() {
        std::lock_guard lock(mutex_);
        return heads_;
    }

private:
    void serve() {
        for (;;) {
            const int fd = ::accept(listener_, nullptr, nullptr);
            if (fd < 0) return;
            std::string head;
            char byte;
            while (head.find("\r\n\r\n") == std::string::npos && ::recv(fd, &byte, 1, 0) == 1) head += byte;
            {
                std::lock_guard lock(mutex_);
                heads_.push_back(head);
            }
            if (!reply_.empty()) {
                ::send(fd, reply_.data(), reply_.size(), MSG_NOSIGNAL);
            } else {
                while (::recv(fd, &byte, 1, 0) == 1) {
                }   // silent until the client leaves
            }
            ::close(fd);
        }
    }

    std::string reply_;
    int listener_ = -1;
    unsigned short port_ = 0;
    std::thread thread_;
    std::mutex mutex_;
    std::vector<std::string> heads_;
};

// The dispatcher's journal and stderr with `proxy_url` the proxy for 3 rows
// to an API nothing else answers for.
struct scripted_run {
    scripted_run(const std::string& proxy_url, unsigned max_attempts, std::vector<std::string> extra = {}) {
        write_contacts_csv(dir / "contacts.csv", 3);
        std::vector<std::string> args{"run",
                                      (dir / "contacts.csv").string(),
                                      "--base-url",
                                      "https://127.0.0.1:9",
                                      "--quiet",
                                      "--concurrency",
                                      "1",
                                      "--max-attempts",
                                      std::to_string(max_attempts),
                                      "--proxy",
                                      proxy_url};
        args.insert(args.end(), extra.begin(), extra.end());
        result = run_binary(args, {{"INVENT_API_TOKEN", "demo-token"}}, dir.path);
        finals = final_by_key(read_journal(dir / "contacts.csv.results.jsonl"));
    }
    void every_row_failed_with(const std::string& reason, std::int64_t attempts) const {
        BOOST_TEST(finals.size() == 3u);
        for (const auto& [key, r] : finals) {
            BOOST_TEST(str(r, "outcome") == "failed", key);
            BOOST_TEST(str(r, "error").find(reason) != std::string::npos, str(r, "error"));
            BOOST_TEST(r.at("attempts").as_int64() == attempts, key);
        }
    }
    temp_dir dir;
    process_result result;
    std::map<std::string, boost::json::object> finals;
};

mock_config plain_mock() {
    mock_config config;
    config.plain = true;
    return config;
}

}   // namespace

BOOST_AUTO_TEST_SUITE(proxy)

// HTTPS_PROXY, as curl reads it: every connection is a CONNECT through
// tinyproxy, TLS to the mock inside it (verified against the mock's CA, by
// name), kept alive and resumed as without a proxy.
BOOST_AUTO_TEST_CASE(tls_rows_through_the_tunnel_of_a_real_proxy) {
    proxy_fixture f(500);
    const auto result = f.run({}, {{"HTTPS_PROXY", f.proxy.url()}});
    BOOST_TEST_REQUIRE(result.exit_code == 0, result.err);
    f.every_row_created_once();

    const auto stats = f.mock.stats_json();
    const auto connections = stat_of(stats, "connections");
    BOOST_TEST(f.proxy.connects_to(f.mock_authority()) == static_cast<std::size_t>(connections), f.proxy.log());
    BOOST_TEST(connections <= 16);   // keep-alive through the tunnel, not a CONNECT a row
    BOOST_TEST(stat_of(stats, "resumed_sessions") > 0);   // TLS sessions resumed through it too
    // The proxy saw tunnels only: no request line, and never the token.
    const auto log = f.proxy.log();
    BOOST_TEST(log.find("POST") == std::string::npos);
    BOOST_TEST(log.find(f.token) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(proxy_credentials_from_the_url) {
    proxy_fixture f(50, {}, "alice s3cret");

    // Wrong ones: a clear error on every attempt, the batch stopped as for a
    // refused token, nothing reached the mock, the password in no output.
    const auto wrong = f.run({"--proxy", f.proxy.url("alice:wr0ng")});
    BOOST_TEST(wrong.exit_code == 3, wrong.err);
    BOOST_TEST(wrong.err.find("the proxy " + f.proxy.url() + " answered CONNECT " + f.mock_authority()) !=
                   std::string::npos,
               wrong.err);
    BOOST_TEST(wrong.err.find("refused the proxy URL's credentials") != std::string::npos, wrong.err);
    BOOST_TEST(ledger_of(f.mock.stats_json()).empty());
    BOOST_TEST(stat_of(f.mock.stats_json(), "connections") == 0);
    // Rows whose tunnel was still being made when the batch stopped were not sent.
    std::size_t refused = 0;
    for (const auto& [key, r] : final_by_key(read_journal(f.journal()))) {
        const auto error = str(r, "error");
        refused += error.find("refused the proxy URL's credentials") != std::string::npos;
        BOOST_TEST((error.find("refused the proxy URL's credentials") != std::string::npos ||
                    error == "stopped before it was sent"),
                   error);
    }
    BOOST_TEST(refused >= 3u);   // the refusals in a row that stop the batch
    BOOST_TEST(read_file_if_any(f.journal()).find("wr0ng") == std::string::npos);
    BOOST_TEST(wrong.err.find("wr0ng") == std::string::npos);
    BOOST_TEST(wrong.err.find("through the proxy " + f.proxy.url() + " with") != std::string::npos, wrong.err);

    // None: the proxy's 407 says what it wants.
    fs::remove(f.journal());
    const auto none = f.run({"--proxy", f.proxy.url()});
    BOOST_TEST(none.exit_code == 3, none.err);
    BOOST_TEST(none.err.find("407 Proxy Authentication Required (it wants credentials") != std::string::npos, none.err);
    BOOST_TEST(ledger_of(f.mock.stats_json()).empty());

    // The right ones: Proxy-Authorization: Basic, and every row through.
    fs::remove(f.journal());
    const auto right = f.run({"--proxy", f.proxy.url("alice:s3cret")});
    BOOST_TEST_REQUIRE(right.exit_code == 0, right.err);
    f.every_row_created_once();
    BOOST_TEST(f.proxy.connects_to(f.mock_authority()) > 0);
    BOOST_TEST(f.proxy.log().find(f.token) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(no_proxy_naming_the_host_bypasses_the_proxy) {
    proxy_fixture f(50);
    const auto result = f.run({}, {{"https_proxy", f.proxy.url()}, {"NO_PROXY", "localhost, 127.0.0.0/8"}});
    BOOST_TEST_REQUIRE(result.exit_code == 0, result.err);
    f.every_row_created_once();
    BOOST_TEST(f.proxy.connects_to(f.mock_authority()) == 0u, f.proxy.log());
    BOOST_TEST(stat_of(f.mock.stats_json(), "connections") > 0);
}

// An http:// API (loopback only) takes HTTP_PROXY, through a tunnel as well.
BOOST_AUTO_TEST_CASE(http_proxy_for_a_plain_loopback_api) {
    proxy_fixture f(50, plain_mock());
    const auto result = f.run({}, {{"HTTP_PROXY", f.proxy.url()}, {"HTTPS_PROXY", "http://127.0.0.1:1"}});
    BOOST_TEST_REQUIRE(result.exit_code == 0, result.err);
    f.every_row_created_once();
    BOOST_TEST(f.proxy.connects_to(f.mock_authority()) ==
               static_cast<std::size_t>(stat_of(f.mock.stats_json(), "connections")));
}

// The exact bytes of CONNECT; a refusal other than 407 is retried like a
// failed connect (each attempt a new CONNECT), not an abort.
BOOST_AUTO_TEST_CASE(refused_connect_is_retried_with_the_proxys_words) {
    scripted_proxy proxy("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
    const scripted_run run(proxy.url("alice:s3cret"), 2);
    BOOST_TEST(run.result.exit_code == 1, run.result.err);
    run.every_row_failed_with("the proxy " + proxy.url() + " answered CONNECT 127.0.0.1:9 with 502 Bad Gateway", 2);
    const auto heads = proxy.heads();
    BOOST_TEST(heads.size() == 6u);
    for (const auto& head : heads)
        BOOST_TEST(head == "CONNECT 127.0.0.1:9 HTTP/1.1\r\nHost: 127.0.0.1:9\r\n"
                           "Proxy-Authorization: Basic YWxpY2U6czNjcmV0\r\n"
                           "User-Agent: invent-dispatch/" INVENT_DISPATCH_VERSION "\r\n\r\n");
}

BOOST_AUTO_TEST_CASE(a_proxy_that_does_not_speak_http_is_named) {
    scripted_proxy proxy("SSH-2.0-OpenSSH_9.2\r\n\r\n");
    const scripted_run run(proxy.url(), 2);
    BOOST_TEST(run.result.exit_code == 1, run.result.err);
    run.every_row_failed_with("answered CONNECT 127.0.0.1:9 with something other than HTTP/1.x", 2);
}

// Bytes after the 200 came from the proxy, not from a server that has not been spoken to.
BOOST_AUTO_TEST_CASE(bytes_after_the_tunnel_reply_are_refused) {
    scripted_proxy proxy("HTTP/1.1 200 Connection established\r\n\r\nHTTP/1.1 200 OK\r\n\r\n");
    const scripted_run run(proxy.url(), 2);
    BOOST_TEST(run.result.exit_code == 1, run.result.err);
    run.every_row_failed_with("sent bytes after its reply to CONNECT 127.0.0.1:9", 2);
}

// A proxy that never answers CONNECT is a connect timeout: nothing was sent.
BOOST_AUTO_TEST_CASE(a_silent_proxy_times_out_the_connect) {
    scripted_proxy proxy("");
    const scripted_run run(proxy.url(), 1, {"--timeout", "300ms"});
    BOOST_TEST(run.result.exit_code == 1, run.result.err);
    run.every_row_failed_with("did not answer CONNECT 127.0.0.1:9", 1);
}

BOOST_AUTO_TEST_SUITE_END()
