#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "invent_dispatch/journal_writer.hpp"
#include "invent_dispatch/logging.hpp"
#include "invent_dispatch/utc_time.hpp"
#include "journal_detail.hpp"

namespace invent_dispatch {

namespace asio = boost::asio;
using std::chrono::steady_clock;

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

// Enough for a few thousand records between writes without growing.
constexpr std::size_t initial_buffer_capacity = 1 << 20;

constexpr std::string_view sending_mark = R"("outcome":"sending")";

// The `sending` records out of `records` (whole lines). A failure's cold path:
// inside a JSON string every quote is escaped, so only a `sending` record's
// own field holds the mark.
void drop_sending_records(std::string& records) {
    std::size_t kept = 0;
    for (std::size_t start = 0; start < records.size();) {
        const auto newline = records.find('\n', start);
        const auto end = newline == std::string::npos ? records.size() : newline + 1;
        const std::string_view line(records.data() + start, end - start);
        if (line.find(sending_mark) == std::string_view::npos) {
            std::copy(line.begin(), line.end(), records.begin() + static_cast<std::ptrdiff_t>(kept));
            kept += line.size();
        }
        start = end;
    }
    records.resize(kept);
}

}   // namespace

struct journal_writer::impl {
    impl(asio::any_io_executor io_executor, journal_file& file, journal_options journal)
        : executor(std::move(io_executor)),
          options(std::move(journal)),
          fd(file.fd()),
          written_event(executor, steady_clock::time_point::max()),
          cadence(executor) {
        // The buffer's capacity is kept for the whole run: appends don't allocate.
        buffer.reserve(initial_buffer_capacity);
        if (!options.write) options.write = ::writev;
    }

    void open();
    // The buffer to the file, one batch. On a failure the file is cut back to
    // the last whole record before the batch's first `sending` one: those
    // requests never left, and the next run is to send them, not to call them
    // unknown. The final records that did not reach the file stay in the
    // buffer; the `sending` ones go. 0 or the errno.
    int write_batch();
    bool write_out();   // false: the journal has failed (now or before)
    int sync(bool metadata_too);   // 0 or the errno
    void fail(std::string message, int error);
    void check_open() const;
    std::string_view stamp() noexcept { return clock_text.now(); }
    // Bounds how long a record can sit in memory (flush_interval) and how
    // much a power cut can lose (sync_interval), whether or not anyone commits.
    static asio::awaitable<void> keep_cadence(std::shared_ptr<impl> self);

    asio::any_io_executor executor;
    journal_options options;
    int fd;   // the journal_file's: it keeps the lock
    std::string buffer;   // appended, not yet written
    std::size_t first_sending = std::string::npos;   // in buffer
    off_t file_end = 0;   // the file's length after the last whole batch
    std::uint64_t appended = 0;   // records appended since open
    std::uint64_t written = 0;   // of those, records in the file
    std::uint64_t writes = 0;
    std::uint64_t syncs = 0;
    bool unsynced = false;   // written since the last sync
    bool write_scheduled = false;   // a commit() is about to write for everyone waiting
    bool started = false;
    bool closed = false;
    std::string failure;
    boost::system::error_code failure_code;
    std::function<void(const std::string&)> failure_handler;
    utc_clock_text clock_text;
    // Never expires: cancelling it wakes every commit() waiting for a write.
    asio::steady_timer written_event;
    asio::steady_timer cadence;
};

void journal_writer::impl::open() {
    struct stat info {};
    if (::fstat(fd, &info) != 0) detail::throw_system_error(options.path, "cannot stat", errno);
    file_end = info.st_size;
    if (info.st_size > 0) {
        // Appending after a torn line would glue two records into one bad line.
        char last = 0;
        if (::pread(fd, &last, 1, info.st_size - 1) != 1)
            detail::throw_system_error(options.path, "cannot read", errno);
        if (last != '\n') throw journal_error(options.path + ": ends in a torn line; load_journal repairs it");
        return;
    }
    buffer += detail::journal_header_line(options.input_identity, options.input_content);
    if (const int error = write_batch()) detail::throw_system_error(options.path, "write failed", error);
    if (const int error = sync(true)) detail::throw_system_error(options.path, "sync failed", error);
    // A new file's name must survive a power cut too, or its records go with it.
    const auto directory = std::filesystem::absolute(options.path).parent_path();
    const unique_fd dir_fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir_fd) detail::throw_system_error(directory.string(), "cannot open", errno);
    if (::fsync(dir_fd.get()) != 0) detail::throw_system_error(directory.string(), "cannot sync", errno);
}

void journal_writer::impl::fail(std::string message, int error) {
    if (!failure.empty()) return;
    failure = std::move(message);
    failure_code = boost::system::error_code(error, boost::system::system_category());
    written_event.cancel();
    if (failure_handler) failure_handler(failure);
}

void journal_writer::impl::check_open() const {
    if (closed) throw journal_error(options.path + ": the journal is closed");
}

int journal_writer::impl::write_batch() {
    std::size_t done = 0;
    int error = 0;
    while (done < buffer.size()) {
        const iovec part{buffer.data() + done, buffer.size() - done};
        const auto n = options.write(fd, &part, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            error = n < 0 ? errno : EIO;
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    if (error == 0) {
        if (!buffer.empty()) ++writes;
        file_end += static_cast<off_t>(buffer.size());
        buffer.clear();
        first_sending = std::string::npos;
        return 0;
    }
    // Whole records before the first `sending` one stay: those rows were
    // answered. A torn line goes, and so does every `sending` record: left in
    // the file they would read as unknown.
    std::size_t keep = std::min(done, first_sending);
    if (keep < buffer.size()) {
        const auto last_newline = keep == 0 ? std::string::npos : buffer.rfind('\n', keep - 1);
        keep = last_newline == std::string::npos ? 0 : last_newline + 1;
    }
    if (done > keep) {
        int cut;
        do {
            cut = ::ftruncate(fd, file_end + static_cast<off_t>(keep));
        } while (cut != 0 && errno == EINTR);
        // Cutting back frees space rather than taking it; if even that fails,
        // the next run repairs a torn line and calls the rows unknown.
    }
    file_end += static_cast<off_t>(keep);
    buffer.erase(0, keep);
    drop_sending_records(buffer);
    first_sending = std::string::npos;
    return error;
}

bool journal_writer::impl::write_out() {
    if (!failure.empty()) return false;
    if (buffer.empty()) return true;
    if (const int error = write_batch()) {
        fail(options.path + ": write failed: " + std::strerror(error), error);
        return false;
    }
    written = appended;
    unsynced = true;
    written_event.cancel();
    return true;
}

int journal_writer::impl::sync(bool metadata_too) {
    int result;
    do {
        result = metadata_too ? ::fsync(fd) : ::fdatasync(fd);
    } while (result != 0 && errno == EINTR);
    if (result != 0) return errno;
    ++syncs;
    unsynced = false;
    return 0;
}

asio::awaitable<void> journal_writer::impl::keep_cadence(std::shared_ptr<impl> self) {
    auto last_sync = steady_clock::now();
    while (true) {
        self->cadence.expires_after(self->options.flush_interval);
        co_await self->cadence.async_wait(use_nothrow);
        if (self->closed || !self->write_out()) co_return;
        if (self->unsynced && steady_clock::now() - last_sync >= self->options.sync_interval) {
            if (const int error = self->sync(false)) {
                self->fail(self->options.path + ": sync failed: " + std::strerror(error), error);
                co_return;
            }
            last_sync = steady_clock::now();
        }
    }
}

journal_writer::journal_writer(asio::any_io_executor executor, journal_file& file, journal_options options)
    : impl_(std::make_shared<impl>(std::move(executor), file, std::move(options))) {
    impl_->open();
}

journal_writer::~journal_writer() {
    // Whoever asked to hear of a failure may be gone by now.
    impl_->failure_handler = nullptr;
    close();
}

void journal_writer::append(const row_result& result) {
    impl_->check_open();
    append_result_record(impl_->buffer, result, impl_->stamp());
    ++impl_->appended;
}

void journal_writer::append_sending(std::uint64_t line, std::string_view key) {
    auto& self = *impl_;
    self.check_open();
    if (!self.failure.empty()) return;   // the row will not be sent: commit() says so
    if (self.first_sending == std::string::npos) self.first_sending = self.buffer.size();
    append_sending_record(self.buffer, line, key, self.stamp());
    ++self.appended;
}

void journal_writer::append_run_start(const run_start_event& event) {
    impl_->check_open();
    detail::append_run_start_record(impl_->buffer, event, impl_->stamp());
    ++impl_->appended;
}

void journal_writer::append_run_end(int exit_code) {
    impl_->check_open();
    detail::append_run_end_record(impl_->buffer, exit_code, impl_->stamp());
    ++impl_->appended;
}

void journal_writer::append_pause(int http_status, std::chrono::system_clock::time_point until) {
    impl_->check_open();
    const auto until_text = format_utc(until);
    detail::append_pause_record(impl_->buffer, http_status, until_text, impl_->stamp());
    ++impl_->appended;
}

asio::awaitable<boost::system::error_code> journal_writer::commit() {
    auto& self = *impl_;
    if (!self.failure.empty()) co_return self.failure_code;
    if (self.written == self.appended) co_return boost::system::error_code{};
    const auto target = self.appended;
    if (!self.write_scheduled) {
        // Step aside once, so that every coroutine ready to run appends and
        // waits behind us: they all go out in the write below.
        self.write_scheduled = true;
        co_await asio::post(self.executor, asio::use_awaitable);
        self.write_scheduled = false;
        self.write_out();
        co_return self.failure_code;
    }
    while (self.written < target && self.failure.empty()) co_await self.written_event.async_wait(use_nothrow);
    co_return self.failure_code;
}

void journal_writer::on_failure(std::function<void(const std::string&)> handler) {
    impl_->failure_handler = std::move(handler);
}

bool journal_writer::failed() const noexcept {
    return !impl_->failure.empty();
}

void journal_writer::start() {
    impl_->check_open();
    if (std::exchange(impl_->started, true)) return;
    asio::co_spawn(impl_->executor, impl::keep_cadence(impl_), log_escaped_exception{"journal flush and sync timer"});
}

void journal_writer::close() {
    auto& self = *impl_;
    if (self.closed) return;
    self.closed = true;
    self.cadence.cancel();
    if (self.write_out()) {
        if (const int error = self.sync(true))
            self.fail(self.options.path + ": sync failed: " + std::strerror(error), error);
        return;
    }
    // The journal failed: the rows answered since may still fit (cutting the
    // failed batch back freed its space). Said once already, so not again.
    if (self.write_batch() == 0) self.sync(false);
}

std::uint64_t journal_writer::records_written() const noexcept {
    return impl_->written;
}
std::uint64_t journal_writer::writes_issued() const noexcept {
    return impl_->writes;
}
std::uint64_t journal_writer::syncs_issued() const noexcept {
    return impl_->syncs;
}

}   // namespace invent_dispatch
