#pragma once
// Shared by the integration tests: temporary folders, the real binary run as
// a child process (so exit codes, signals and stderr are the user's), and
// readers for the journal and the mock's ledger.
#include <atomic>
#include <boost/asio/buffers_iterator.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <netinet/in.h>
#include <optional>
#include <spawn.h>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "support/files.hpp"

extern char** environ;

namespace test_support {

namespace fs = std::filesystem;

// A loopback port nothing listens on (bound, read, released): a connect to it
// is refused.
inline unsigned short unused_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    BOOST_REQUIRE(fd >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&address), size) == 0 &&
                       ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0;
    ::close(fd);
    BOOST_REQUIRE(bound);
    return ntohs(address.sin_port);
}

// A CSV of `rows` contacts: c_<i> on channel ch_<i % 7>, line i + 1.
inline void write_contacts_csv(const fs::path& path, int rows, const std::string& prefix = "c_") {
    std::ofstream out(path);
    out << "contact_id,channel_id,first_name\n";
    for (int i = 0; i < rows; ++i) out << prefix << i << ",ch_" << (i % 7) << ",Name" << i << "\n";
}

struct process_result {
    int exit_code = -1;   // 128 + signal when killed by one
    std::string out;
    std::string err;
    long max_rss_kib = 0;   // the child's peak resident set
};

using env_map = std::map<std::string, std::string>;

inline bool is_proxy_variable(const std::string& entry) {
    for (const char* name : {"https_proxy=", "HTTPS_PROXY=", "http_proxy=", "HTTP_PROXY=", "no_proxy=", "NO_PROXY="})
        if (entry.rfind(name, 0) == 0) return true;
    return false;
}

// A child process running the invent-dispatch binary; stdout and stderr go
// to files in `dir`.
class child_process {
public:
    // With stdin_text, standard input is a pipe the text is written into
    // (then closed); else /dev/null. With a launcher (its full path first),
    // the binary runs under it: launcher... binary args...
    child_process(const std::vector<std::string>& args, const env_map& env, const fs::path& dir,
                  const std::optional<std::string>& stdin_text = std::nullopt,
                  const std::vector<std::string>& launcher = {})
        : out_path_(dir / ("stdout-" + std::to_string(counter()++))),
          err_path_(dir / ("stderr-" + std::to_string(counter()))) {
        std::vector<std::string> argv_storage = launcher;
        argv_storage.push_back(INVENT_BINARY);
        argv_storage.insert(argv_storage.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& a : argv_storage) argv.push_back(a.data());
        argv.push_back(nullptr);

        std::vector<std::string> env_storage;
        for (char** e = environ; *e != nullptr; ++e) {
            const std::string entry(*e);
            // The test decides every INVENT_ variable, and whether a proxy is used.
            if (entry.rfind("INVENT_", 0) == 0 || is_proxy_variable(entry)) continue;
            env_storage.push_back(entry);
        }
        for (const auto& [name, value] : env) env_storage.push_back(name + "=" + value);
        std::vector<char*> envp;
        for (auto& e : env_storage) envp.push_back(e.data());
        envp.push_back(nullptr);

        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        int stdin_pipe[2] = {-1, -1};
        if (stdin_text) {
            BOOST_REQUIRE(::pipe2(stdin_pipe, O_CLOEXEC) == 0);
            posix_spawn_file_actions_adddup2(&actions, stdin_pipe[0], STDIN_FILENO);
        } else {
            posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        }
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                         0644);
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                         0644);
        const int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
        posix_spawn_file_actions_destroy(&actions);
        BOOST_REQUIRE_MESSAGE(rc == 0, "cannot start " << argv[0]);
        if (stdin_text) {
            ::close(stdin_pipe[0]);
            stdin_writer_ = std::thread([fd = stdin_pipe[1], text = *stdin_text] {
                // A child that exits early makes the write fail (EPIPE), not kill the tests.
                sigset_t pipe_signal;
                sigemptyset(&pipe_signal);
                sigaddset(&pipe_signal, SIGPIPE);
                pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
                for (std::size_t done = 0; done < text.size();) {
                    const auto n = ::write(fd, text.data() + done, text.size() - done);
                    if (n <= 0) break;   // the child stopped reading
                    done += static_cast<std::size_t>(n);
                }
                ::close(fd);
            });
        }
    }
    ~child_process() {
        if (stdin_writer_.joinable()) {
            if (pid_ > 0) ::kill(pid_, SIGKILL);
            stdin_writer_.join();
        }
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    pid_t pid() const { return pid_; }
    std::string stderr_so_far() const { return read_file_if_any(err_path_); }
    void signal(int sig) { ::kill(pid_, sig); }

    process_result wait() {
        int status = 0;
        rusage usage{};
        ::wait4(pid_, &status, 0, &usage);
        return reaped(status, usage);
    }

    // The result if the process ends within `limit`; else it is killed and
    // nullopt returned (a test that must not hang, never a speed check).
    std::optional<process_result> wait_at_most(std::chrono::seconds limit) {
        const auto until = std::chrono::steady_clock::now() + limit;
        int status = 0;
        rusage usage{};
        while (::wait4(pid_, &status, WNOHANG, &usage) == 0) {
            if (std::chrono::steady_clock::now() > until) return std::nullopt;   // the destructor kills it
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return reaped(status, usage);
    }

private:
    process_result reaped(int status, const rusage& usage) {
        pid_ = -1;
        if (stdin_writer_.joinable()) stdin_writer_.join();
        process_result result;
        result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        result.max_rss_kib = usage.ru_maxrss;
        result.out = read_file_if_any(out_path_);
        result.err = read_file_if_any(err_path_);
        return result;
    }

    static int& counter() {
        static int n = 0;
        return n;
    }
    fs::path out_path_;
    fs::path err_path_;
    pid_t pid_ = -1;
    std::thread stdin_writer_;
};

inline process_result run_binary(const std::vector<std::string>& args, const env_map& env, const fs::path& dir,
                                 const std::optional<std::string>& stdin_text = std::nullopt) {
    child_process child(args, env, dir, stdin_text);
    return child.wait();
}

// Polls `done` every 5 ms until it holds or `limit` passes (a bound on a wait,
// never an assertion about speed).
template <class Predicate>
bool wait_for(Predicate done, std::chrono::seconds limit = std::chrono::seconds(60)) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

// The journal's records (the identity line first), parsed.
inline std::vector<boost::json::object> read_journal(const fs::path& path) {
    std::vector<boost::json::object> records;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        boost::system::error_code ec;
        auto value = boost::json::parse(line, ec);
        BOOST_REQUIRE_MESSAGE(!ec && value.is_object(), path << ": not a JSON object line: " << line);
        records.push_back(value.as_object());
    }
    return records;
}

inline std::string str(const boost::json::object& o, const char* key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

inline std::size_t count_lines(const fs::path& path) {
    std::ifstream in(path);
    return static_cast<std::size_t>(std::count(std::istreambuf_iterator<char>(in), {}, '\n'));
}

// The final record of each key (sending records skipped), last one wins.
inline std::map<std::string, boost::json::object> final_by_key(const std::vector<boost::json::object>& records) {
    std::map<std::string, boost::json::object> finals;
    for (const auto& r : records) {
        const auto outcome = str(r, "outcome");
        if (outcome.empty() || outcome == "sending") continue;
        finals[str(r, "key")] = r;
    }
    return finals;
}

// The mock's ledger: key -> {count, ambiguous, ids}.
struct ledger_entry {
    std::int64_t count = 0;
    std::int64_t ambiguous = 0;
    std::vector<std::string> ids;
};

inline std::map<std::string, ledger_entry> ledger_of(const std::string& stats_json) {
    std::map<std::string, ledger_entry> ledger;
    const auto stats = boost::json::parse(stats_json).as_object();
    for (const auto& [key, value] : stats.at("chats").as_object()) {
        const auto& entry = value.as_object();
        ledger_entry e;
        e.count = entry.at("count").to_number<std::int64_t>();
        e.ambiguous = entry.at("ambiguous").to_number<std::int64_t>();
        for (const auto& id : entry.at("ids").as_array()) e.ids.emplace_back(id.as_string());
        ledger.emplace(std::string(key), std::move(e));
    }
    return ledger;
}

inline std::int64_t stat_of(const std::string& stats_json, const char* name) {
    return boost::json::parse(stats_json).as_object().at(name).to_number<std::int64_t>();
}

// Reads one request (head, then a Content-Length body) from a blocking
// socket, for test servers that answer with exact bytes. False when the
// connection ended.
inline bool read_http_request(boost::asio::ip::tcp::socket& socket, boost::asio::streambuf& pending) {
    boost::system::error_code ec;
    const auto head_size = boost::asio::read_until(socket, pending, "\r\n\r\n", ec);
    if (ec) return false;
    std::string head(boost::asio::buffers_begin(pending.data()),
                     boost::asio::buffers_begin(pending.data()) + static_cast<std::ptrdiff_t>(head_size));
    pending.consume(head_size);
    const auto at = head.find("Content-Length: ");
    const std::size_t length = at == std::string::npos ? 0 : std::stoul(head.substr(at + 16));
    if (pending.size() < length)
        boost::asio::read(socket, pending, boost::asio::transfer_exactly(length - pending.size()), ec);
    pending.consume(length);
    return !ec;
}

// A blocking plain-HTTP server on a loopback port, for tests that need exact
// bytes: serve(socket, n) handles the n-th accepted connection (0-based), one
// at a time, on the server's own thread.
class loopback_server {
public:
    using tcp = boost::asio::ip::tcp;
    using handler = std::function<void(tcp::socket&, int)>;

    explicit loopback_server(handler serve)
        : serve_(std::move(serve)),
          acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
        thread_ = std::thread([this] {
            for (int connection = 0;; ++connection) {
                tcp::socket socket(io_);
                boost::system::error_code ec;
                acceptor_.accept(socket, ec);
                if (ec || stopping_) return;
                serve_(socket, connection);
            }
        });
    }
    ~loopback_server() {
        // A blocked accept() is not woken by closing the acceptor: connect to it.
        stopping_ = true;
        boost::system::error_code ignored;
        tcp::socket wake(io_);
        wake.connect(acceptor_.local_endpoint(), ignored);
        thread_.join();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }

private:
    handler serve_;
    boost::asio::io_context io_;
    tcp::acceptor acceptor_;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

// Runs a shell command line in `dir`; its exit status.
inline int run_with_shell(const std::string& command, const fs::path& dir) {
    const std::string line = "cd '" + dir.string() + "' && " + command + " >/dev/null 2>&1";
    const int status = std::system(line.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}   // namespace test_support
