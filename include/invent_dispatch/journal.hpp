#pragma once
// The results journal (SPEC §3, §4): write-ahead `sending` records, final
// records in completion order, group writes, flush/fsync cadence, torn-line
// repair, and reading it back for resume.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "invent_dispatch/chat_request.hpp"
#include "invent_dispatch/key_set.hpp"

namespace invent_dispatch {

class journal_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct journal_options {
    std::string path;
    std::string input_identity;   // kept in the journal's first line; another input's journal is refused
    std::chrono::milliseconds flush_interval{100};
    std::chrono::milliseconds sync_interval{1000};
};

struct dangling_send {
    std::uint64_t line;
    std::string key;
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
    std::uint64_t records = 0;            // records read, the header line not counted
    bool repaired_torn_line = false;      // a torn last line was cut off
};

// The journal's line formats, exposed for tests and for anyone who needs the
// same bytes. Each appends one whole line, '\n' included, to `out`; none
// allocates beyond growing `out`.
void append_result_record(std::string& out, const row_result& result);
void append_sending_record(std::string& out, std::uint64_t line, std::string_view key);

// Reads (and repairs: truncates a torn last line) the journal at options.path.
// A missing file is an empty state. Throws journal_error for another input's
// journal, a file that is not a journal, a bad line before the last, or an
// unreadable file; the message names the file and line. Call it before
// opening a journal_writer on the same file, which refuses a torn one.
resume_state load_journal(const journal_options& options);

class journal_writer {
public:
    // Opens for append (creating it with its identity line when new).
    // Throws journal_error when it cannot.
    journal_writer(boost::asio::any_io_executor executor, journal_options options);
    ~journal_writer();
    journal_writer(const journal_writer&) = delete;
    journal_writer& operator=(const journal_writer&) = delete;

    // Buffered in memory. All calls come from the executor's one thread.
    // Once a write has failed, every append, commit and close throws
    // journal_error: nothing may be sent whose record might not be kept.
    void append(const row_result& result);
    void append_sending(std::uint64_t line, std::string_view key);
    // Resumes once everything appended before the call is in the file (one
    // write(2) for all callers waiting at that moment); at once when it is.
    boost::asio::awaitable<void> commit();
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
