#pragma once
// The results journal's file and records (SPEC §3, §4), without Asio: one
// run per journal (an exclusive lock), the line formats, and reading it back
// for resume (torn-line repair). The async writer is journal_writer.hpp.
#include <sys/types.h>
#include <sys/uio.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "invent_dispatch/chat_request.hpp"
#include "invent_dispatch/input_fingerprint.hpp"
#include "invent_dispatch/resume_state.hpp"
#include "invent_dispatch/unique_fd.hpp"

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

    int fd() const noexcept { return fd_.get(); }
    const std::string& path() const noexcept { return path_; }

private:
    std::string path_;
    unique_fd fd_;
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

}   // namespace invent_dispatch
