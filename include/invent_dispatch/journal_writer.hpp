#pragma once
// The journal's async writer (SPEC §3, §4): write-ahead `sending` records,
// final records in completion order, event records, group writes,
// flush/fsync cadence, and a write failure cut back to the last whole group.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "invent_dispatch/chat_request.hpp"
#include "invent_dispatch/journal_records.hpp"

namespace invent_dispatch {

class journal_writer {
public:
    // Appends to `file` (its identity line first when it is empty), which
    // must outlive the writer. Throws journal_error when it cannot.
    journal_writer(boost::asio::any_io_executor executor, journal_file& file, journal_options options);
    ~journal_writer();
    journal_writer(const journal_writer&) = delete;
    journal_writer& operator=(const journal_writer&) = delete;

    // Buffered in memory, each stamped with `at`. All calls come from the
    // executor's one thread.
    void append(const row_result& result);
    void append_sending(std::uint64_t line, std::string_view key);
    void append_run_start(const run_start_event& event);
    void append_run_end(int exit_code);
    // A dispatcher-wide pause (Retry-After on a 429 or 503) until `until`.
    void append_pause(int http_status, std::chrono::system_clock::time_point until);

    // Resumes once everything appended before the call is in the file (one
    // write for all callers waiting at that moment); at once when it is.
    // An error when the journal has failed: the rows whose `sending` records
    // wait in it must not be sent.
    boost::asio::awaitable<boost::system::error_code> commit();

    // A write or sync that fails (disk full, I/O error) fails the journal for
    // good, once: a batch that reached the file in part is cut back to its
    // last whole record before its first `sending` one (those rows were not
    // sent: the next run sends them), and `on_failure` is called with the
    // message (the only place it is said). Final records not in the file yet
    // are tried once more by close(); nothing is thrown.
    void on_failure(std::function<void(const std::string& message)> handler);
    bool failed() const noexcept;

    void start();   // the periodic flush and fsync; idempotent
    void close();   // flush, fsync, stop the timers; idempotent
    std::uint64_t records_written() const noexcept;
    std::uint64_t writes_issued() const noexcept;   // write(2) batches, header included
    std::uint64_t syncs_issued() const noexcept;   // fdatasync/fsync calls

private:
    struct impl;
    // Shared with the periodic timer coroutine, which may resume once after
    // the writer is gone (to see that it was closed).
    std::shared_ptr<impl> impl_;
};

}   // namespace invent_dispatch
