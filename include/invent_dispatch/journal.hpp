#pragma once
// The results journal (SPEC §3, §4): one run per journal (an exclusive lock),
// write-ahead `sending` records, final records in completion order, event
// records, group writes, flush/fsync cadence, torn-line repair, a write
// failure cut back to the last whole group, and reading it back for resume.
#include <sys/types.h>
#include <sys/uio.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "invent_dispatch/chat_request.hpp"
#include "invent_dispatch/input_fingerprint.hpp"
#include "invent_dispatch/key_set.hpp"

namespace invent_dispatch {

class journal_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// How a batch of records reaches the file: writev(2), unless a test puts
// failures in its way.
using journal_write_call = std::function<ssize_t(int fd, const iovec* parts, int count)>;

struct journal_options {
    std::string path;
    // Kept in the journal's first line. Another input's journal is refused,
    // unless its content matches: the input moved (another folder, mount or host).
    std::string input_identity;
    std::optional<input_fingerprint> input_content;   // none for standard input
    std::chrono::milliseconds flush_interval{100};
    std::chrono::milliseconds sync_interval{1000};
    journal_write_call write;   // empty: ::writev
};

// The journal's file, opened (created when missing) for the whole run and
// locked: one run per journal (SPEC §3). The lock is flock(2), released by
// the kernel however the process ends, kill -9 included.
class journal_file {
public:
    // Throws journal_error for what is not a regular file (a FIFO, a pipe, a
    // device, a directory: nothing is opened then), a file that cannot be
    // opened, and a journal another process holds (naming its PID).
    explicit journal_file(std::string path);
    ~journal_file();
    journal_file(const journal_file&) = delete;
    journal_file& operator=(const journal_file&) = delete;

    int fd() const noexcept { return fd_; }
    const std::string& path() const noexcept { return path_; }

private:
    std::string path_;
    int fd_ = -1;
};

// A row an earlier run sent without recording how it ended; its ids come
// from the key's segments.
struct dangling_send {
    std::uint64_t line;
    std::string key;
    std::string org_id;
    std::string contact_id;
    std::string channel_id;
};

// What an earlier run left. Keys are held compactly (key_set).
//
// Only records of a sent request speak for a key: `created` puts it in
// created for good (no later record un-creates a chat), `unknown` puts it in
// unknown, `failed` takes it out of unknown (a definite answer after
// --retry-unknown). `invalid` and `skipped` rows sent nothing and change
// nothing: a skipped duplicate of a created key must not let the next run
// send it again. A `sending` record is answered by a final record for the
// same row (line and key); one left unanswered is dangling.
struct resume_state {
    key_set created;                      // a chat exists for these keys
    key_set unknown;                      // unknown, or `sending` with no final record
    std::vector<dangling_send> dangling;  // `sending` without a final record, by line: to be recorded unknown
    std::uint64_t records = 0;            // row records read: not the header, not events
    bool repaired_torn_line = false;      // a torn last line was cut off
    std::string moved_from;               // the input the journal names, when only its content matched
};

// The journal's line formats, exposed for tests and for anyone who needs the
// same bytes. Each appends one whole line, '\n' included, to `out`, with `at`
// (utc_time.hpp) as its last field; none allocates beyond growing `out`.
void append_result_record(std::string& out, const row_result& result, std::string_view at);
void append_sending_record(std::string& out, std::uint64_t line, std::string_view key, std::string_view at);

// Event records: not rows; the loader skips them, readers must not need them.
struct run_start_event {
    std::string_view version;
    std::string_view base_url;
    std::string_view shard;   // "K/N", empty for none
    pid_t pid = 0;
};

// Reads (and repairs: truncates a torn last line) the journal. An empty file
// is an empty state. Throws journal_error for another input's journal, a
// file that is not a journal, a bad line before the last, or an unreadable
// file; the message names the file and line. Call it before opening a
// journal_writer on the same file, which refuses a torn one.
resume_state load_journal(journal_file& file, const journal_options& options);

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
    std::uint64_t syncs_issued() const noexcept;    // fdatasync/fsync calls

private:
    struct impl;
    // Shared with the periodic timer coroutine, which may resume once after
    // the writer is gone (to see that it was closed).
    std::shared_ptr<impl> impl_;
};

} // namespace invent_dispatch
