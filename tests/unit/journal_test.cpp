#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <simdjson.h>
#include <sstream>
#include <string>
#include <vector>

#include "invent_dispatch/journal_writer.hpp"
#include "invent_dispatch/json_text.hpp"
#include "invent_dispatch/utc_time.hpp"
#include "support/files.hpp"
#include "support/io_context.hpp"

using namespace invent_dispatch;
namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

// A scratch folder (removed afterwards) and the options of a journal in it.
struct journal_dir : test_support::temp_dir {
    journal_options options(std::string identity = "contacts.csv") const {
        journal_options o;
        o.path = (path / "results.jsonl").string();
        o.input_identity = std::move(identity);
        return o;
    }
};

using test_support::read_file;
using test_support::spawn;

void append_to_file(const std::string& path, std::string_view bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    out << bytes;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

row_result full_result() {
    row_result r;
    r.line = 12;
    r.key = "org_1/c_9/ch_3";
    r.org_id = "org_1";
    r.contact_id = "c_9";
    r.channel_id = "ch_3";
    r.result = outcome::created;
    r.http_status = 200;
    r.chat_id = "chat_123";
    r.chat_status = "RUNNING";
    r.chat_state = "OPEN";
    r.created_at = "2023-11-07T05:31:56Z";
    r.link = "https://app.useinvent.com/c/chat_123";
    r.attempts = 1;
    r.latency_ms = 84.25;
    return r;
}

constexpr std::string_view at = "2026-11-29T22:12:05.123Z";

// A writer with its own locked journal_file, as a run has them.
struct test_journal : journal_file, journal_writer {
    test_journal(asio::io_context& io, const journal_options& options)
        : journal_file(options.path),
          journal_writer(io.get_executor(), *this, options) {}
};

// Reads the journal as a run starts: locked while it is read.
resume_state load(const journal_options& options) {
    journal_file file(options.path);
    return load_journal(file, options);
}

row_result final_result(std::uint64_t line, std::string_view key, outcome result) {
    row_result r;
    r.line = line;
    r.key = key;
    r.result = result;
    return r;
}

}   // namespace

BOOST_AUTO_TEST_SUITE(journal)

BOOST_AUTO_TEST_CASE(full_record_has_every_key_in_order) {
    std::string out;
    append_result_record(out, full_result(), at);
    BOOST_TEST(out == R"({"line":12,"key":"org_1/c_9/ch_3","org_id":"org_1","contact_id":"c_9",)"
                      R"("channel_id":"ch_3","outcome":"created","http_status":200,"chat_id":"chat_123",)"
                      R"("chat_status":"RUNNING","chat_state":"OPEN","chat_created_at":"2023-11-07T05:31:56Z",)"
                      R"("link":"https://app.useinvent.com/c/chat_123","attempts":1,"latency_ms":84.2,)"
                      R"("error":null,"at":"2026-11-29T22:12:05.123Z"})"
                      "\n");
}

BOOST_AUTO_TEST_CASE(empty_fields_are_null_and_strings_are_escaped) {
    const std::string nasty = "say \"hi\" \\ back\nnow\x01\t\x1f end \xF0\x9F\x98\x80 caf\xC3\xA9";
    row_result r;
    r.line = 3;
    r.key = "o/c/h";
    r.result = outcome::failed;
    r.attempts = 0;
    r.error = nasty;
    std::string out;
    append_result_record(out, r, at);
    BOOST_TEST(out.back() == '\n');
    BOOST_TEST(out.find('\n') == out.size() - 1);   // one line, whatever the error held

    simdjson::dom::parser parser;
    simdjson::dom::object record;
    BOOST_REQUIRE(!parser.parse(out).get(record));
    BOOST_TEST(std::string_view(record["error"]) == nasty);
    for (const char* field : {"org_id", "contact_id", "channel_id", "http_status", "chat_id", "chat_status",
                              "chat_state", "chat_created_at", "link"})
        BOOST_TEST(record[field].is_null(), field);
    BOOST_TEST(std::string_view(record["outcome"]) == "failed");
    BOOST_TEST(std::uint64_t(record["attempts"]) == 0u);
    BOOST_TEST(out.find(R"("latency_ms":null,)") != std::string::npos);   // no answer, no latency
    BOOST_TEST(out.find(R"(\u0001)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(invalid_utf8_becomes_replacement_characters) {
    // A lone continuation byte, a truncated sequence, an overlong '/', a surrogate.
    const std::string bad = "a\x80"
                            "b\xE2\x82"
                            "c\xC0\xAF"
                            "d\xED\xA0\x80"
                            "e";
    std::string out;
    append_json_string(out, bad);
    simdjson::dom::parser parser;
    std::string_view parsed;
    BOOST_REQUIRE(!parser.parse(out).get(parsed));   // simdjson validates UTF-8
    const std::string fffd = "\xEF\xBF\xBD";
    BOOST_TEST(parsed == "a" + fffd + "b" + fffd + fffd + "c" + fffd + fffd + "d" + fffd + fffd + fffd + "e");
}

BOOST_AUTO_TEST_CASE(sending_record_format) {
    std::string out;
    append_sending_record(out, 12, "org_1/c_9/ch_3", at);
    BOOST_TEST(out == R"({"line":12,"key":"org_1/c_9/ch_3","outcome":"sending","at":"2026-11-29T22:12:05.123Z"})"
                      "\n");
}

BOOST_FIXTURE_TEST_CASE(a_new_journal_starts_with_its_identity, test_support::io_fixture) {
    journal_dir dir;
    {
        test_journal writer(io, dir.options("in \"put\".csv"));
        BOOST_TEST(writer.records_written() == 0u);
    }
    BOOST_TEST(read_file(dir.options().path) ==
               R"({"journal":"invent-dispatch","version":1,"input":"in \"put\".csv","input_size":null,)"
               R"("input_digest":null})"
               "\n");
    fs::remove(dir.options().path);
    auto options = dir.options("contacts.csv");
    options.input_content = input_fingerprint{1234, "ab01"};
    { test_journal writer(io, options); }
    BOOST_TEST(read_file(options.path) ==
               R"({"journal":"invent-dispatch","version":1,"input":"contacts.csv","input_size":1234,)"
               R"("input_digest":"ab01"})"
               "\n");
}

BOOST_FIXTURE_TEST_CASE(every_record_carries_its_time_last, test_support::io_fixture) {
    journal_dir dir;
    const auto before = std::chrono::system_clock::now();
    {
        test_journal writer(io, dir.options());
        writer.append_run_start({"0.1.0", "https://api.example", "", 42});
        writer.append_sending(2, "o/c/h");
        writer.append(full_result());
        writer.append_pause(429, std::chrono::system_clock::time_point(std::chrono::milliseconds(1'800'000'000'250)));
        writer.append_run_end(1);
    }
    const auto after = format_utc(std::chrono::system_clock::now());
    const auto lines = lines_of(read_file(dir.options().path));
    BOOST_REQUIRE(lines.size() == 6u);
    BOOST_TEST(lines[1] == R"({"event":"run_start","version":"0.1.0","base_url":"https://api.example",)"
                           R"("shard":null,"pid":42,"at":")" +
                               lines[1].substr(lines[1].size() - 26, 24) + "\"}");
    BOOST_TEST(lines[4].starts_with(R"({"event":"pause","status":429,"until":"2027-01-15T08:00:00.250Z","at":")"));
    BOOST_TEST(lines[5].starts_with(R"({"event":"run_end","exit_code":1,"at":")"));
    for (std::size_t i = 1; i < lines.size(); ++i) {
        simdjson::dom::parser parser;
        simdjson::dom::object record;
        BOOST_REQUIRE(!parser.parse(lines[i]).get(record));
        std::string_view last_key, at_text;
        for (auto field : record) last_key = field.key;
        BOOST_TEST(last_key == "at", lines[i]);
        BOOST_REQUIRE(!record["at"].get(at_text));
        BOOST_TEST((at_text >= format_utc(before) && at_text <= after), at_text);
    }
}

BOOST_AUTO_TEST_CASE(the_time_is_rfc3339_utc_with_milliseconds) {
    using namespace std::chrono;
    utc_clock_text text;
    const system_clock::time_point when(milliseconds(1'764'454'325'123));
    BOOST_TEST(text.format(when) == "2025-11-29T22:12:05.123Z");
    BOOST_TEST(text.format(when + milliseconds(876)) == "2025-11-29T22:12:05.999Z");   // the same second
    BOOST_TEST(text.format(when + milliseconds(877)) == "2025-11-29T22:12:06.000Z");   // the next
    BOOST_TEST(text.format(when - hours(24 * 366)) == "2024-11-28T22:12:05.123Z");
    BOOST_TEST(format_utc(system_clock::time_point(milliseconds(-1))) == "1969-12-31T23:59:59.999Z");
}

BOOST_FIXTURE_TEST_CASE(the_loader_skips_events_and_cuts_a_torn_one, test_support::io_fixture) {
    journal_dir dir;
    const auto options = dir.options();
    {
        test_journal writer(io, options);
        writer.append_run_start({"0.1.0", "https://api.example", "1/4", 42});
        writer.append_sending(2, "o/c/h");
        writer.append_pause(503, std::chrono::system_clock::now());
        writer.append(final_result(2, "o/c/h", outcome::created));
        writer.append_run_end(0);
    }
    const auto whole = read_file(options.path);
    append_to_file(options.path, R"({"event":"run_end","exit_co)");
    const auto state = load(options);
    BOOST_TEST(state.records == 2u);
    BOOST_TEST(state.created.contains("o/c/h"));
    BOOST_TEST(state.dangling.empty());
    BOOST_TEST(state.repaired_torn_line);
    BOOST_TEST(read_file(options.path) == whole);
}

BOOST_FIXTURE_TEST_CASE(concurrent_commits_share_one_write, test_support::io_fixture) {
    journal_dir dir;
    const auto options = dir.options();
    test_journal writer(io, options);
    const auto writes_before = writer.writes_issued();
    int committed = 0;
    for (int i = 0; i < 5; ++i)
        spawn(io, [&, i]() -> asio::awaitable<void> {
            const auto key = "org_1/c_" + std::to_string(i) + "/ch_1";
            writer.append_sending(static_cast<std::uint64_t>(i + 2), key);
            co_await writer.commit();
            // Our record is in the file (the page cache) once commit returns.
            BOOST_TEST(read_file(options.path).find(key) != std::string::npos);
            ++committed;
        });
    io.run();
    BOOST_TEST(committed == 5);
    BOOST_TEST(writer.writes_issued() - writes_before == 1u);
    BOOST_TEST(writer.records_written() == 5u);

    // Nothing new: commit returns at once, without writing or letting
    // another coroutine run. Something new: one more write.
    io.restart();
    spawn(io, [&]() -> asio::awaitable<void> {
        bool queued_ran = false;
        asio::post(io, [&] { queued_ran = true; });
        co_await writer.commit();
        BOOST_TEST(!queued_ran);
        BOOST_TEST(writer.writes_issued() - writes_before == 1u);
        writer.append(final_result(2, "org_1/c_0/ch_1", outcome::created));
        co_await writer.commit();
        BOOST_TEST(writer.writes_issued() - writes_before == 2u);
    });
    io.run();
    BOOST_TEST(lines_of(read_file(options.path)).size() == 7u);
}

BOOST_FIXTURE_TEST_CASE(buffered_records_are_flushed_and_synced_without_commit, test_support::io_fixture) {
    journal_dir dir;
    auto options = dir.options();
    options.flush_interval = std::chrono::milliseconds(10);
    options.sync_interval = std::chrono::milliseconds(20);
    test_journal writer(io, options);
    const auto syncs_before = writer.syncs_issued();
    writer.append_sending(2, "o/c/h");
    writer.start();
    BOOST_TEST(read_file(options.path).find("o/c/h") == std::string::npos);
    io.run_for(std::chrono::milliseconds(300));
    BOOST_TEST(read_file(options.path).find("o/c/h") != std::string::npos);
    BOOST_TEST(writer.syncs_issued() > syncs_before);
    writer.close();
}

BOOST_FIXTURE_TEST_CASE(close_flushes_syncs_and_lets_run_return, test_support::io_fixture) {
    journal_dir dir;
    const auto options = dir.options();
    test_journal writer(io, options);
    writer.start();
    writer.append(full_result());
    const auto syncs_before = writer.syncs_issued();
    spawn(io, [&]() -> asio::awaitable<void> {
        asio::steady_timer pause(io, std::chrono::milliseconds(20));
        co_await pause.async_wait(asio::use_awaitable);
        writer.close();
    });
    io.run();   // returns only because close() stopped the cadence timer
    BOOST_TEST(writer.syncs_issued() == syncs_before + 1);
    BOOST_TEST(writer.records_written() == 1u);
    BOOST_TEST(lines_of(read_file(options.path)).size() == 2u);
    writer.close();   // idempotent
    BOOST_CHECK_THROW(writer.append(full_result()), journal_error);
}

BOOST_FIXTURE_TEST_CASE(a_writer_destroyed_while_its_timer_waits_is_safe, test_support::io_fixture) {
    journal_dir dir;
    {
        test_journal writer(io, dir.options());
        writer.start();
        io.run_for(std::chrono::milliseconds(20));
    }
    io.run();   // the cadence coroutine wakes once, sees the writer closed, and ends
    BOOST_TEST(io.stopped());
}

// What is not a regular file is refused before it is opened: a FIFO would
// block the open or swallow the records, /dev/full fail every write,
// /dev/null keep nothing and refuse fsync.
BOOST_AUTO_TEST_CASE(only_a_regular_file_is_a_journal) {
    journal_dir dir;
    const auto fifo = (dir.path / "fifo").string();
    BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const std::pair<std::string, std::string> refused[] = {
        {fifo, "a FIFO or pipe"},
        {"/dev/full", "a character device"},
        {"/dev/null", "a character device"},
        {dir.path.string(), "a directory"},
    };
    for (const auto& [path, kind] : refused) {
        try {
            journal_file file(path);
            BOOST_ERROR(path << " was accepted as a journal");
        } catch (const journal_error& e) {
            BOOST_TEST(std::string(e.what()) ==
                       path + ": is " + kind + "; the results journal must be a regular file (--results PATH)");
        }
    }
}

BOOST_AUTO_TEST_CASE(a_second_holder_is_refused_naming_the_first) {
    journal_dir dir;
    const auto path = dir.options().path;
    {
        const journal_file first(path);
        try {
            journal_file second(path);
            BOOST_ERROR("two holders of one journal");
        } catch (const journal_error& e) {
            BOOST_TEST(std::string(e.what()) ==
                       path + ": another run is using this journal (PID " + std::to_string(::getpid()) +
                           "); one run per journal: wait for it to end, or give this run another --results");
        }
    }
    const journal_file after_the_first(path);   // released with the first
}

// A write seam that lets `allowed` bytes through, then fails with `error`.
struct failing_writes {
    std::size_t allowed;
    int error = ENOSPC;
    ssize_t operator()(int fd, const iovec* parts, int count) {
        std::size_t asked = 0;
        for (int i = 0; i < count; ++i) asked += parts[i].iov_len;
        if (allowed == 0) {
            errno = error;
            return -1;
        }
        std::vector<iovec> cut(parts, parts + count);
        std::size_t left = std::min(asked, allowed);
        for (auto& part : cut) {
            part.iov_len = std::min(part.iov_len, left);
            left -= part.iov_len;
        }
        const auto n = ::writev(fd, cut.data(), count);
        if (n > 0) allowed -= static_cast<std::size_t>(n);
        return n;
    }
};

// Files may not grow past `bytes` while it lives; writes beyond fail with
// EFBIG instead of raising SIGXFSZ.
struct file_size_limit {
    explicit file_size_limit(rlim_t bytes) {
        ::getrlimit(RLIMIT_FSIZE, &saved);
        previous_handler = std::signal(SIGXFSZ, SIG_IGN);
        rlimit limit = saved;
        limit.rlim_cur = bytes;
        ::setrlimit(RLIMIT_FSIZE, &limit);
    }
    ~file_size_limit() {
        ::setrlimit(RLIMIT_FSIZE, &saved);
        std::signal(SIGXFSZ, previous_handler);
    }
    rlimit saved{};
    void (*previous_handler)(int);
};

BOOST_FIXTURE_TEST_CASE(a_failed_write_fails_every_waiting_commit_and_cuts_the_group_back, test_support::io_fixture) {
    journal_dir dir;
    const auto options = dir.options();
    test_journal writer(io, options);
    std::vector<std::string> failures;
    writer.on_failure([&](const std::string& message) { failures.push_back(message); });
    spawn(io, [&]() -> asio::awaitable<void> {
        writer.append_sending(2, "o/sent/h");
        BOOST_TEST(!co_await writer.commit());
    });
    io.run();
    io.restart();
    const auto before_the_group = read_file(options.path);
    int refused = 0;
    {
        // The kernel's own refusal (EFBIG past RLIMIT_FSIZE), part way into the group.
        const file_size_limit limit(fs::file_size(options.path) + 100);
        for (int i = 0; i < 3; ++i)
            spawn(io, [&, i]() -> asio::awaitable<void> {
                writer.append_sending(static_cast<std::uint64_t>(3 + i), "o/never-sent-" + std::to_string(i) + "/h");
                const auto error = co_await writer.commit();
                BOOST_TEST(error.value() == EFBIG);
                refused += error.failed();
            });
        io.run();
    }
    BOOST_TEST(refused == 3);
    BOOST_TEST(writer.failed());
    BOOST_REQUIRE(failures.size() == 1u);   // said once, however many waited
    BOOST_TEST(failures[0] == options.path + ": write failed: File too large");
    // Those requests never left: their records are gone, the file is whole.
    BOOST_TEST(read_file(options.path) == before_the_group);
    writer.append_sending(9, "o/after/h");
    io.restart();   // without it run() returns at once and the check below never runs
    spawn(io, [&]() -> asio::awaitable<void> { BOOST_TEST((co_await writer.commit()).failed()); });
    io.run();
    writer.close();
    BOOST_TEST(failures.size() == 1u);
    BOOST_TEST(read_file(options.path) == before_the_group);
}

BOOST_FIXTURE_TEST_CASE(a_batch_cut_short_keeps_its_whole_final_records_and_close_tries_the_rest,
                        test_support::io_fixture) {
    journal_dir dir;
    auto options = dir.options();
    { test_journal writer(io, options); }
    const auto header = read_file(options.path);
    auto first = final_result(2, "o/first/h", outcome::created);
    auto second = final_result(3, "o/second/h", outcome::failed);
    std::string first_line;
    append_result_record(first_line, first, at);

    failing_writes seam{first_line.size() + 10};
    options.write = std::ref(seam);
    test_journal writer(io, options);
    std::vector<std::string> failures;
    writer.on_failure([&](const std::string& message) { failures.push_back(message); });
    writer.append(first);
    writer.append(second);
    writer.append_sending(4, "o/not-sent/h");
    spawn(io, [&]() -> asio::awaitable<void> { BOOST_TEST((co_await writer.commit()).value() == ENOSPC); });
    io.run();
    BOOST_REQUIRE(failures.size() == 1u);
    BOOST_TEST(failures[0] == options.path + ": write failed: No space left on device");
    auto lines = lines_of(read_file(options.path));
    BOOST_REQUIRE(lines.size() == 2u);   // the header and the first record; not 10 bytes of the second
    BOOST_TEST(lines[1].find("o/first/h") != std::string::npos);

    // Space again (the failed batch's was freed): close() writes the answered rows, never the unsent one.
    seam.allowed = 1 << 20;
    writer.append(final_result(5, "o/in-flight/h", outcome::created));
    writer.close();
    BOOST_TEST(failures.size() == 1u);
    const auto text = read_file(options.path);
    BOOST_TEST(text.find("o/second/h") != std::string::npos);
    BOOST_TEST(text.find("o/in-flight/h") != std::string::npos);
    BOOST_TEST(text.find("o/not-sent/h") == std::string::npos);
    BOOST_TEST(text.starts_with(header));
}

BOOST_FIXTURE_TEST_CASE(reopening_appends_without_a_second_header, test_support::io_fixture) {
    journal_dir dir;
    const auto options = dir.options();
    for (std::uint64_t run = 0; run < 2; ++run) {
        test_journal writer(io, options);
        writer.append(final_result(2 + run, "o/c/h" + std::to_string(run), outcome::created));
    }
    const auto lines = lines_of(read_file(options.path));
    BOOST_REQUIRE(lines.size() == 3u);
    BOOST_TEST(lines[0].starts_with("{\"journal\""));
    BOOST_TEST(lines[1].find("o/c/h0") != std::string::npos);
    BOOST_TEST(lines[2].find("o/c/h1") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_missing_journal_is_an_empty_state) {
    journal_dir dir;
    const auto state = load(dir.options());
    BOOST_TEST(state.created.size() == 0u);
    BOOST_TEST(state.records == 0u);
    BOOST_TEST(!state.repaired_torn_line);
}

BOOST_FIXTURE_TEST_CASE(load_keeps_the_last_word_on_each_key, test_support::io_fixture) {
    journal_dir dir;
    const auto options = dir.options();
    {
        test_journal writer(io, options);
        writer.append(final_result(2, "o/created/h", outcome::created));
        writer.append(final_result(3, "o/unknown/h", outcome::unknown));
        writer.append(final_result(4, "o/failed/h", outcome::failed));
        writer.append(final_result(5, "o/invalid/h", outcome::invalid));
        // A later run retried the unknown one and got an answer.
        writer.append(final_result(3, "o/unknown-then-created/h", outcome::unknown));
        writer.append(final_result(3, "o/unknown-then-created/h", outcome::created));
        writer.append(final_result(6, "o/unknown-then-failed/h", outcome::unknown));
        writer.append(final_result(6, "o/unknown-then-failed/h", outcome::failed));
        // A skipped duplicate or a later failure cannot undo a chat that exists.
        writer.append(final_result(9, "o/created/h", outcome::skipped));
        writer.append(final_result(10, "o/created/h", outcome::failed));
    }
    const auto state = load(options);
    BOOST_TEST(state.records == 10u);
    BOOST_TEST(state.created.contains("o/created/h"));
    BOOST_TEST(state.created.contains("o/unknown-then-created/h"));
    BOOST_TEST(state.created.size() == 2u);
    BOOST_TEST(state.unknown.contains("o/unknown/h"));
    BOOST_TEST(state.unknown.size() == 1u);
    BOOST_TEST(state.dangling.empty());
    BOOST_TEST(!state.repaired_torn_line);
}

BOOST_FIXTURE_TEST_CASE(whatever_rows_hold_the_journal_reads_back, test_support::io_fixture) {
    // An identity that is not UTF-8, an invalid row without a key, an error
    // message with broken UTF-8 and control characters: all still load.
    journal_dir dir;
    const auto options = dir.options("inputs/\xff\xfe.csv");
    {
        test_journal writer(io, options);
        row_result invalid;
        invalid.line = 2;
        invalid.result = outcome::invalid;
        invalid.error = "contact_id is empty";
        writer.append(invalid);
        auto failed = final_result(3, "o/c/h", outcome::failed);
        failed.error = "bad \xc3 byte\x02 and \"quotes\"";
        writer.append(failed);
        writer.append(final_result(4, "o/d/h", outcome::created));
    }
    const auto state = load(options);
    BOOST_TEST(state.records == 3u);
    BOOST_TEST(state.created.contains("o/d/h"));
    BOOST_TEST(!state.repaired_torn_line);
}

BOOST_FIXTURE_TEST_CASE(a_send_without_an_answer_is_unknown_and_dangling, test_support::io_fixture) {
    journal_dir dir;
    const auto options = dir.options();
    {
        test_journal writer(io, options);
        writer.append_sending(2, "o/answered/h");
        writer.append_sending(3, "o/lost/h");
        writer.append_sending(4, "o/lost-dup/h");
        writer.append(final_result(2, "o/answered/h", outcome::created));
        writer.append_sending(7, "o/lost-dup/h");   // --allow-duplicates: a second row, same key
        writer.append(final_result(7, "o/lost-dup/h", outcome::created));
        writer.append_sending(8, "o/skipped-meanwhile/h");
        writer.append(final_result(9, "o/skipped-meanwhile/h", outcome::skipped));
    }
    const auto state = load(options);
    BOOST_REQUIRE(state.dangling.size() == 3u);
    BOOST_TEST(state.dangling[0].line == 3u);
    BOOST_TEST(state.dangling[0].key == "o/lost/h");
    BOOST_TEST(state.dangling[1].line == 4u);
    BOOST_TEST(state.dangling[1].key == "o/lost-dup/h");
    BOOST_TEST(state.dangling[2].line == 8u);
    BOOST_TEST(state.dangling[2].key == "o/skipped-meanwhile/h");
    BOOST_TEST(state.unknown.contains("o/lost/h"));
    BOOST_TEST(state.unknown.contains("o/skipped-meanwhile/h"));
    BOOST_TEST(state.created.contains("o/answered/h"));
    BOOST_TEST(!state.unknown.contains("o/answered/h"));

    // The caller records them unknown; the next load has nothing dangling.
    {
        test_journal writer(io, options);
        for (const auto& send : state.dangling) writer.append(final_result(send.line, send.key, outcome::unknown));
    }
    const auto again = load(options);
    BOOST_TEST(again.dangling.empty());
    BOOST_TEST(again.unknown.contains("o/lost/h"));
    BOOST_TEST(again.unknown.size() == 3u);
}

BOOST_FIXTURE_TEST_CASE(a_torn_last_line_is_cut_off, test_support::io_fixture) {
    journal_dir dir;
    const auto options = dir.options();
    {
        test_journal writer(io, options);
        writer.append(final_result(2, "o/whole/h", outcome::created));
    }
    const auto whole = read_file(options.path);
    append_to_file(options.path, R"({"line":3,"key":"o/torn/h","outcome":"crea)");
    BOOST_CHECK_THROW(test_journal(io, options), journal_error);

    const auto state = load(options);
    BOOST_TEST(state.repaired_torn_line);
    BOOST_TEST(state.records == 1u);
    BOOST_TEST(state.created.contains("o/whole/h"));
    BOOST_TEST(read_file(options.path) == whole);
    {
        test_journal writer(io, options);
        writer.append(final_result(3, "o/next/h", outcome::created));
    }
    const auto repaired = load(options);
    BOOST_TEST(!repaired.repaired_torn_line);
    BOOST_TEST(repaired.created.size() == 2u);
}

BOOST_FIXTURE_TEST_CASE(a_crash_at_any_byte_leaves_a_journal_the_next_run_can_finish, test_support::io_fixture) {
    journal_dir dir;
    const auto options = dir.options();
    {
        test_journal writer(io, options);
        writer.append_sending(2, "o/a/h");
        auto created = full_result();
        created.line = 2;
        created.key = "o/a/h";
        writer.append(created);
        writer.append_sending(3, "o/b/h");
    }
    const auto complete = read_file(options.path);
    for (std::size_t cut = 0; cut <= complete.size(); ++cut) {
        fs::resize_file(options.path, cut);
        const auto state = load(options);   // never refuses its own torn file
        const auto kept = read_file(options.path);
        BOOST_TEST((kept.empty() || kept.back() == '\n'), "cut at " << cut);
        BOOST_TEST(complete.starts_with(kept));
        {
            test_journal writer(io, options);
            for (const auto& send : state.dangling) writer.append(final_result(send.line, send.key, outcome::unknown));
        }
        const auto resumed = load(options);
        BOOST_TEST(!resumed.repaired_torn_line);
        BOOST_TEST(resumed.dangling.empty());
        // Whatever was sent is now either created or unknown: never sent again.
        const bool a_sent = kept.find(R"("key":"o/a/h","outcome":"sending")") != std::string::npos;
        BOOST_TEST((!a_sent || resumed.created.contains("o/a/h") || resumed.unknown.contains("o/a/h")),
                   "cut at " << cut);
        std::ofstream(options.path, std::ios::binary | std::ios::trunc) << complete;
    }
}

BOOST_FIXTURE_TEST_CASE(an_unparsable_last_line_is_cut_off, test_support::io_fixture) {
    journal_dir dir;
    const auto options = dir.options();
    { test_journal writer(io, options); }
    const auto header_only = read_file(options.path);
    append_to_file(options.path, "{\"line\":2,\"key\":\"o/c/h\",\"outc\n\n");
    const auto state = load(options);
    BOOST_TEST(state.repaired_torn_line);
    BOOST_TEST(state.records == 0u);
    BOOST_TEST(read_file(options.path) == header_only);
}

BOOST_FIXTURE_TEST_CASE(a_torn_header_is_cut_off, test_support::io_fixture) {
    journal_dir dir;
    const auto options = dir.options();
    append_to_file(options.path, R"({"journal":"invent-dispatch","vers)");
    const auto state = load(options);
    BOOST_TEST(state.repaired_torn_line);
    BOOST_TEST(fs::file_size(options.path) == 0u);
    { test_journal writer(io, options); }
    BOOST_TEST(lines_of(read_file(options.path)).size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(garbage_in_the_middle_is_an_error_naming_the_line, test_support::io_fixture) {
    journal_dir dir;
    const auto options = dir.options();
    {
        test_journal writer(io, options);
        writer.append(final_result(2, "o/a/h", outcome::created));
    }
    append_to_file(options.path, "not json at all\n");
    {
        test_journal writer(io, options);
        writer.append(final_result(3, "o/b/h", outcome::created));
    }
    const auto before = read_file(options.path);
    try {
        load(options);
        BOOST_ERROR("load_journal accepted a garbage line");
    } catch (const journal_error& e) {
        BOOST_TEST(std::string(e.what()) == options.path + ":3: not an invent-dispatch journal record");
    }
    BOOST_TEST(read_file(options.path) == before);   // an error repairs nothing
}

BOOST_FIXTURE_TEST_CASE(another_inputs_journal_is_refused, test_support::io_fixture) {
    journal_dir dir;
    { test_journal writer(io, dir.options("a.csv")); }
    try {
        load(dir.options("b.csv"));
        BOOST_ERROR("load_journal accepted another input's journal");
    } catch (const journal_error& e) {
        BOOST_TEST(std::string(e.what()) == dir.options().path +
                                                ": this journal belongs to input a.csv, not b.csv (it records no "
                                                "content fingerprint to recognise a moved input by); run it with that "
                                                "input, or give this run another --results");
    }
}

BOOST_FIXTURE_TEST_CASE(a_moved_input_is_recognised_by_its_content, test_support::io_fixture) {
    journal_dir dir;
    auto written = dir.options("/old/place/contacts.csv");
    written.input_content = input_fingerprint{4096, std::string(64, 'a')};
    {
        test_journal writer(io, written);
        writer.append(final_result(2, "o/c/h", outcome::created));
    }
    auto moved = dir.options("/new/place/contacts.csv");
    moved.input_content = written.input_content;
    const auto state = load(moved);
    BOOST_TEST(state.moved_from == "/old/place/contacts.csv");
    BOOST_TEST(state.created.contains("o/c/h"));
    BOOST_TEST(load(written).moved_from.empty());

    auto edited = moved;
    edited.input_content = input_fingerprint{4097, std::string(64, 'b')};
    try {
        load(edited);
        BOOST_ERROR("a journal was taken for another input");
    } catch (const journal_error& e) {
        BOOST_TEST(std::string(e.what()) ==
                   written.path + ": this journal belongs to input /old/place/contacts.csv, not "
                                  "/new/place/contacts.csv (nor does the content match: 4096 bytes, SHA-256 of "
                                  "the first MiB aaaaaaaaaaaa... there; 4097 bytes, bbbbbbbbbbbb... here); run it "
                                  "with that input, or give this run another --results");
    }
    // The same path is its input whatever it holds now (rows appended, say).
    BOOST_TEST(load(dir.options("/old/place/contacts.csv")).created.size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_dangling_send_carries_the_ids_of_its_key, test_support::io_fixture) {
    journal_dir dir;
    const auto options = dir.options();
    {
        test_journal writer(io, options);
        writer.append_sending(2, "org%2F1/c%20%25/ch_3");
    }
    const auto state = load(options);
    BOOST_REQUIRE(state.dangling.size() == 1u);
    BOOST_TEST(state.dangling[0].org_id == "org/1");
    BOOST_TEST(state.dangling[0].contact_id == "c %");
    BOOST_TEST(state.dangling[0].channel_id == "ch_3");
}

BOOST_AUTO_TEST_CASE(a_file_that_is_not_a_journal_is_left_alone) {
    journal_dir dir;
    const auto options = dir.options();
    append_to_file(options.path, "contact_id,channel_id\nc1,h1");
    BOOST_CHECK_THROW(load(options), journal_error);
    BOOST_TEST(read_file(options.path) == "contact_id,channel_id\nc1,h1");
}

BOOST_AUTO_TEST_CASE(a_million_lines_load) {
    journal_dir dir;
    const auto options = dir.options();
    constexpr std::uint64_t rows = 500'000;   // a sending and a final line each
    {
        asio::io_context io;
        test_journal writer(io, options);
    }
    {
        std::string text;
        std::string key;
        std::ofstream out(options.path, std::ios::binary | std::ios::app);
        for (std::uint64_t i = 0; i < rows; ++i) {
            const auto line = i + 2;
            key = "org_1/c_" + std::to_string(i) + "/ch_" + std::to_string(i % 7);
            append_sending_record(text, line, key, at);
            if (i + 3 >= rows) continue;   // the last three were in flight
            auto result = full_result();
            result.line = line;
            result.key = key;
            result.result = i % 10 == 0 ? outcome::unknown : i % 10 == 1 ? outcome::failed : outcome::created;
            append_result_record(text, result, at);
            if (text.size() > (1 << 20)) {
                out << text;
                text.clear();
            }
        }
        out << text;
    }
    const auto started = std::chrono::steady_clock::now();
    const auto cpu_started = std::clock();
    const auto state = load(options);
    const double cpu_ms = 1000.0 * double(std::clock() - cpu_started) / CLOCKS_PER_SEC;
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - started;
    BOOST_TEST_MESSAGE("loaded " << state.records << " records (" << fs::file_size(options.path) / (1 << 20)
                                 << " MiB) in " << took.count() << " ms (" << cpu_ms << " ms of CPU)");

    BOOST_TEST(state.records == 2 * rows - 3);
    BOOST_TEST(state.dangling.size() == 3u);
    std::uint64_t created = 0, unknown = 0;
    for (std::uint64_t i = 0; i + 3 < rows; ++i) {
        created += i % 10 >= 2;
        unknown += i % 10 == 0;
    }
    BOOST_TEST(state.created.size() == created);
    BOOST_TEST(state.unknown.size() == unknown + 3);
    BOOST_TEST(state.created.contains("org_1/c_12/ch_5"));
    BOOST_TEST(state.unknown.contains("org_1/c_20/ch_6"));
    BOOST_TEST(!state.created.contains("org_1/c_21/ch_0"));
    BOOST_TEST(!state.repaired_torn_line);
}

BOOST_AUTO_TEST_SUITE_END()
