#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "journal_detail.hpp"
#include "invent_dispatch/journal.hpp"

namespace invent_dispatch {

namespace asio = boost::asio;
using std::chrono::steady_clock;

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

// Enough for a few thousand records between writes without growing.
constexpr std::size_t initial_buffer_capacity = 1 << 20;

} // namespace

struct journal_writer::impl {
    impl(asio::any_io_executor io_executor, journal_options journal)
        : executor(std::move(io_executor)), options(std::move(journal)),
          written_event(executor, steady_clock::time_point::max()), cadence(executor) {
        // The buffer's capacity is kept for the whole run: appends don't allocate.
        buffer.reserve(initial_buffer_capacity);
    }
    ~impl() { close_file(); }

    void open();
    void write_out();            // the buffer to the file, one batch
    void sync(bool metadata_too);
    void close_file() noexcept;
    // Keeps the first failure: from then on every call reports it, because a
    // row must not be sent once its record may not reach the disk.
    [[noreturn]] void fail(std::string message);
    void check_usable() const;
    // Bounds how long a record can sit in memory (flush_interval) and how
    // much a power cut can lose (sync_interval), whether or not anyone commits.
    static asio::awaitable<void> keep_cadence(std::shared_ptr<impl> self);

    asio::any_io_executor executor;
    journal_options options;
    int fd = -1;
    std::string buffer;                 // appended, not yet written
    std::uint64_t appended = 0;         // records appended since open
    std::uint64_t written = 0;          // of those, records handed to write(2)
    std::uint64_t writes = 0;
    std::uint64_t syncs = 0;
    bool unsynced = false;              // written since the last sync
    bool write_scheduled = false;       // a commit() is about to write for everyone waiting
    bool started = false;
    bool closed = false;
    std::string failure;
    // Never expires: cancelling it wakes every commit() waiting for a write.
    asio::steady_timer written_event;
    asio::steady_timer cadence;
};

void journal_writer::impl::open() {
    // Read-write only to look at the last byte below; every write appends.
    fd = ::open(options.path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) detail::throw_system_error(options.path, "cannot open", errno);
    struct stat info {};
    if (::fstat(fd, &info) != 0) detail::throw_system_error(options.path, "cannot stat", errno);
    if (info.st_size > 0) {
        // Appending after a torn line would glue two records into one bad line.
        char last = 0;
        if (::pread(fd, &last, 1, info.st_size - 1) != 1)
            detail::throw_system_error(options.path, "cannot read", errno);
        if (last != '\n')
            throw journal_error(options.path + ": ends in a torn line; load_journal repairs it");
        return;
    }
    buffer += detail::journal_header_line(options.input_identity);
    write_out();
    sync(true);
    // A new file's name must survive a power cut too, or its records go with it.
    const auto directory = std::filesystem::absolute(options.path).parent_path();
    const int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) detail::throw_system_error(directory.string(), "cannot open", errno);
    const int synced = ::fsync(dir_fd);
    const int sync_error = errno;
    ::close(dir_fd);
    if (synced != 0) detail::throw_system_error(directory.string(), "cannot sync", sync_error);
}

void journal_writer::impl::fail(std::string message) {
    if (failure.empty()) failure = std::move(message);
    written_event.cancel();
    throw journal_error(failure);
}

void journal_writer::impl::check_usable() const {
    if (!failure.empty()) throw journal_error(failure);
    if (closed) throw journal_error(options.path + ": the journal is closed");
}

void journal_writer::impl::write_out() {
    if (!failure.empty()) throw journal_error(failure);
    if (buffer.empty()) return;
    const char* data = buffer.data();
    std::size_t left = buffer.size();
    while (left > 0) {
        const auto n = ::write(fd, data, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail(options.path + ": write failed: " + std::strerror(errno));
        }
        data += n;
        left -= static_cast<std::size_t>(n);
    }
    ++writes;
    written = appended;
    unsynced = true;
    buffer.clear();
    written_event.cancel();
}

void journal_writer::impl::sync(bool metadata_too) {
    if (!failure.empty()) throw journal_error(failure);
    int result;
    do {
        result = metadata_too ? ::fsync(fd) : ::fdatasync(fd);
    } while (result != 0 && errno == EINTR);
    if (result != 0) fail(options.path + ": sync failed: " + std::strerror(errno));
    ++syncs;
    unsynced = false;
}

void journal_writer::impl::close_file() noexcept {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

asio::awaitable<void> journal_writer::impl::keep_cadence(std::shared_ptr<impl> self) {
    auto last_sync = steady_clock::now();
    while (true) {
        self->cadence.expires_after(self->options.flush_interval);
        co_await self->cadence.async_wait(use_nothrow);
        if (self->closed || !self->failure.empty()) co_return;
        try {
            self->write_out();
            if (self->unsynced && steady_clock::now() - last_sync >= self->options.sync_interval) {
                self->sync(false);
                last_sync = steady_clock::now();
            }
        } catch (const journal_error&) {
            co_return;   // kept in failure: the next append, commit or close reports it
        }
    }
}

journal_writer::journal_writer(asio::any_io_executor executor, journal_options options)
    : impl_(std::make_shared<impl>(std::move(executor), std::move(options))) {
    impl_->open();
}

journal_writer::~journal_writer() {
    try {
        close();
    } catch (const journal_error&) {
        // The failure was reported by the append, commit or close that met it.
    }
}

void journal_writer::append(const row_result& result) {
    impl_->check_usable();
    append_result_record(impl_->buffer, result);
    ++impl_->appended;
}

void journal_writer::append_sending(std::uint64_t line, std::string_view key) {
    impl_->check_usable();
    append_sending_record(impl_->buffer, line, key);
    ++impl_->appended;
}

asio::awaitable<void> journal_writer::commit() {
    auto& self = *impl_;
    if (!self.failure.empty()) throw journal_error(self.failure);
    if (self.written == self.appended) co_return;
    const auto target = self.appended;
    if (!self.write_scheduled) {
        // Step aside once, so that every coroutine ready to run appends and
        // waits behind us: they all go out in the write below.
        self.write_scheduled = true;
        co_await asio::post(self.executor, asio::use_awaitable);
        self.write_scheduled = false;
        self.write_out();
        co_return;
    }
    while (self.written < target) {
        co_await self.written_event.async_wait(use_nothrow);
        if (!self.failure.empty()) throw journal_error(self.failure);
    }
}

void journal_writer::start() {
    impl_->check_usable();
    if (std::exchange(impl_->started, true)) return;
    asio::co_spawn(impl_->executor, impl::keep_cadence(impl_), asio::detached);
}

void journal_writer::close() {
    auto& self = *impl_;
    if (self.closed) return;
    self.closed = true;
    self.cadence.cancel();
    try {
        self.write_out();
        self.sync(true);
    } catch (const journal_error&) {
        self.close_file();
        throw;
    }
    self.close_file();
}

std::uint64_t journal_writer::records_written() const noexcept { return impl_->written; }
std::uint64_t journal_writer::writes_issued() const noexcept { return impl_->writes; }
std::uint64_t journal_writer::syncs_issued() const noexcept { return impl_->syncs; }

} // namespace invent_dispatch
