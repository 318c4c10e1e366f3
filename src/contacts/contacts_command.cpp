// `invent-dispatch contacts`: the listing loop over one connection of the
// HTTP client, with the scheduler's rate and retries, rows to stdout or to a
// file that appears only when the listing is whole.
#include "invent_dispatch/contacts.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <ostream>
#include <random>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

#include "invent_dispatch/connection.hpp"
#include "invent_dispatch/dispatcher.hpp"
#include "invent_dispatch/report.hpp"
#include "invent_dispatch/unique_fd.hpp"

namespace invent_dispatch {
namespace {

namespace net = boost::asio;
namespace fs = std::filesystem;

// The listing's transport: one keep-alive connection from a connection_pool, as `run` has.
class connection_pages final : public page_transport {
public:
    connection_pages(net::any_io_executor executor, const connection_pool& pool)
        : connection_(std::move(executor), pool) {}

    net::awaitable<page_reply> open() override { co_return reply_of(co_await connection_.open()); }
    bool is_open() const noexcept override { return connection_.is_open(); }
    net::awaitable<page_reply> get(const std::string& target) override {
        co_return reply_of(co_await connection_.send(http_request{"GET", target, {}, {}}));
    }
    void close() noexcept override { connection_.close(); }

private:
    static page_reply reply_of(const http_answer& answer) {
        return {answer.ec,
                answer.stage,
                answer.status,
                answer.body,
                answer.headers.retry_after,
                answer.headers.pagination_count,
                answer.detail};
    }
    connection connection_;
};

[[noreturn]] void fail_on(const std::string& path, const char* what) {
    throw std::runtime_error(fmt::format("{}: cannot {}: {}", path, what, std::strerror(errno)));
}

// --out: a temporary file beside it, renamed over it only once the listing is
// complete, so a half listing is never mistaken for a whole one.
class atomic_file {
public:
    explicit atomic_file(std::string path) : path_(std::move(path)) {
        const fs::path target(path_);
        const auto dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
        temp_ = (dir / ("." + target.filename().string() + ".partial-XXXXXX")).string();
        fd_.reset(::mkstemp(temp_.data()));
        if (!fd_) fail_on(temp_, "create a temporary file");
        // mkstemp makes it 0600; the finished file gets what a plain create would.
        const auto mask = ::umask(0);
        ::umask(mask);
        ::fchmod(fd_.get(), 0666 & ~mask);
    }
    ~atomic_file() {
        fd_.reset();
        if (!committed_) ::unlink(temp_.c_str());
    }
    atomic_file(const atomic_file&) = delete;
    atomic_file& operator=(const atomic_file&) = delete;

    void write(std::string_view text) {
        while (!text.empty()) {
            const auto written = ::write(fd_.get(), text.data(), text.size());
            if (written < 0 && errno == EINTR) continue;
            if (written < 0) fail_on(temp_, "write");
            text.remove_prefix(static_cast<std::size_t>(written));
        }
    }
    void commit() {
        if (::fsync(fd_.get()) != 0) fail_on(temp_, "flush");
        fd_.reset();
        if (::rename(temp_.c_str(), path_.c_str()) != 0) fail_on(path_, "rename the finished listing into place");
        committed_ = true;
        // The rename itself is durable once the directory is.
        const auto dir = fs::path(path_).has_parent_path() ? fs::path(path_).parent_path().string() : std::string(".");
        if (const unique_fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY)); dir_fd) ::fsync(dir_fd.get());
    }

private:
    std::string path_;
    std::string temp_;
    unique_fd fd_;
    bool committed_ = false;
};

// The progress line: redrawn on a terminal, one line every log interval
// otherwise.
class listing_progress {
public:
    listing_progress(std::ostream& out, bool terminal) : out_(out), terminal_(terminal) {}

    void page_read(const contact_listing& listing) {
        const auto now = std::chrono::steady_clock::now();
        if (!terminal_ && now - last_ < progress_printer::log_interval) return;
        last_ = now;
        const auto& c = listing.counts();
        const auto expected = listing.expected_contacts();
        const auto line = fmt::format("contacts: {} pages, {}{} contacts, {} rows", c.pages, c.contacts,
                                      expected ? fmt::format(" of {}", *expected) : std::string(), c.rows);
        if (terminal_)
            out_ << '\r' << line << "\x1b[K" << std::flush;
        else
            out_ << line << '\n' << std::flush;
        drawn_ = true;
    }
    void finish() {
        if (terminal_ && drawn_) out_ << '\n';
    }

private:
    std::ostream& out_;
    bool terminal_;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

}   // namespace

int run_contacts(const dispatch_config& api, const contacts_config& contacts, const contacts_context& context) {
    std::ostream& err = *context.err;
    // Before anything is sent: an --out that cannot be written is a usage error.
    std::optional<atomic_file> out_file;
    try {
        if (contacts.out_path) out_file.emplace(*contacts.out_path);
    } catch (const std::exception& e) {
        err << "invent-dispatch: " << e.what() << "\n";
        return exit_usage;
    }

    net::io_context io{1};
    connection_pool pool(api.client);
    connection_pages transport(io.get_executor(), pool);
    // A GET changes nothing on the server: repeating one that got no answer is safe.
    retry_config retry = api.retry;
    retry.retry_ambiguous = true;
    scheduler pacing(api.rate, retry, api.seed ? api.seed : std::random_device{}());

    listing_options options;
    options.base_path = api.client.endpoint.base_path;
    options.org_id = api.defaults.org_id;
    options.query = contacts.query;
    options.include_unsubscribed = contacts.include_unsubscribed;
    options.include_blocked = contacts.include_blocked;
    options.format = contacts.format;

    listing_progress progress(err, context.terminal);
    contacts_lister lister(options, transport, pacing, [&](std::string_view text, const contact_listing& listing) {
        if (out_file) {
            out_file->write(text);
        } else {
            context.rows->write(text.data(), static_cast<std::streamsize>(text.size()));
            context.rows->flush();   // the next stage of a pipe starts on them now
            if (!*context.rows) throw std::runtime_error("cannot write the rows to standard output");
        }
        if (!api.quiet) progress.page_read(listing);
    });

    spdlog::info("listing the contacts of org {} from {}, rate {}", api.defaults.org_id, api.base_url,
                 api.rate ? fmt::format("{}/s burst {}", api.rate->per_second, api.rate->burst)
                          : std::string("unlimited"));
    int stopped_by = 0;
    net::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code ec, int signal) {
        if (ec) return;
        stopped_by = signal;
        lister.stop();
    });
    listing_result result;
    net::co_spawn(io, lister.run(), [&](std::exception_ptr failure, listing_result r) {
        // Nothing more to carry: the connection and its timers go, so run() returns.
        transport.close();
        signals.cancel();
        if (!failure) {
            result = std::move(r);
            return;
        }
        try {
            std::rethrow_exception(failure);
        } catch (const std::exception& e) {
            result = {listing_result::kind::failed, e.what()};
        }
    });
    io.run();
    progress.finish();

    int status = exit_ok;
    switch (result.how) {
    case listing_result::kind::complete:
        if (out_file) {
            try {
                out_file->commit();
            } catch (const std::exception& e) {
                result.error = e.what();
                status = exit_rows_not_created;
            }
        }
        break;
    case listing_result::kind::failed: status = exit_rows_not_created; break;
    case listing_result::kind::refused: status = exit_aborted; break;
    case listing_result::kind::stopped: status = stopped_by == SIGINT ? exit_sigint : exit_sigterm; break;
    }
    const auto where = contacts.out_path ? fmt::format(" to {}", *contacts.out_path) : std::string();
    err << "contacts: " << describe(lister.counts()) << "\n";
    if (status == exit_ok) {
        err << "contacts: listing complete" << where << "\n";
    } else {
        const auto partial = contacts.out_path ? fmt::format("nothing written to {}", *contacts.out_path)
                                               : std::string("the rows on standard output are incomplete");
        err << "contacts: " << (result.how == listing_result::kind::stopped ? "stopped" : result.error) << "; "
            << partial << "\n";
    }
    return status;
}

}   // namespace invent_dispatch
