#include <sys/resource.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <csignal>
#include <ctime>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <simdjson.h>
#include <sstream>
#include <string>
#include <vector>

#include "invent_dispatch/journal.hpp"
#include "invent_dispatch/json_text.hpp"

using namespace invent_dispatch;
namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

// A fresh directory under /tmp per test, removed afterwards.
struct temp_dir {
    temp_dir() {
        std::string pattern = (fs::temp_directory_path() / "invent-journal-XXXXXX").string();
        BOOST_REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~temp_dir() { fs::remove_all(path); }

    journal_options options(std::string identity = "contacts.csv") const {
        journal_options o;
        o.path = (path / "results.jsonl").string();
        o.input_identity = std::move(identity);
        return o;
    }

    fs::path path;
};

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

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

// Runs the coroutine to completion, rethrowing what escaped it.
template <typename Coroutine>
void spawn(asio::io_context& io, Coroutine coroutine) {
    asio::co_spawn(io, std::move(coroutine), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
    });
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

row_result final_result(std::uint64_t line, std::string_view key, outcome result) {
    row_result r;
    r.line = line;
    r.key = key;
    r.result = result;
    return r;
}

} // namespace

BOOST_AUTO_TEST_SUITE(journal)

BOOST_AUTO_TEST_CASE(full_record_has_every_key_in_order) {
    std::string out;
    append_result_record(out, full_result());
    BOOST_TEST(out ==
               R"({"line":12,"key":"org_1/c_9/ch_3","org_id":"org_1","contact_id":"c_9",)"
               R"("channel_id":"ch_3","outcome":"created","http_status":200,"chat_id":"chat_123",)"
               R"("chat_status":"RUNNING","chat_state":"OPEN","chat_created_at":"2023-11-07T05:31:56Z",)"
               R"("link":"https://app.useinvent.com/c/chat_123","attempts":1,"latency_ms":84.2,)"
               R"("error":null})"
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
    append_result_record(out, r);
    BOOST_TEST(out.back() == '\n');
    BOOST_TEST(out.find('\n') == out.size() - 1);   // one line, whatever the error held

    simdjson::dom::parser parser;
    simdjson::dom::object record;
    BOOST_REQUIRE(!parser.parse(out).get(record));
    BOOST_TEST(std::string_view(record["error"]) == nasty);
    for (const char* field : {"org_id", "contact_id", "channel_id", "http_status", "chat_id",
                              "chat_status", "chat_state", "chat_created_at", "link"})
        BOOST_TEST(record[field].is_null(), field);
    BOOST_TEST(std::string_view(record["outcome"]) == "failed");
    BOOST_TEST(std::uint64_t(record["attempts"]) == 0u);
    BOOST_TEST(out.find(R"("latency_ms":0.0,)") != std::string::npos);
    BOOST_TEST(out.find(R"(\u0001)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(invalid_utf8_becomes_replacement_characters) {
    // A lone continuation byte, a truncated sequence, an overlong '/', a surrogate.
    const std::string bad = "a\x80" "b\xE2\x82" "c\xC0\xAF" "d\xED\xA0\x80" "e";
    std::string out;
    append_json_string(out, bad);
    simdjson::dom::parser parser;
    std::string_view parsed;
    BOOST_REQUIRE(!parser.parse(out).get(parsed));   // simdjson validates UTF-8
    const std::string fffd = "\xEF\xBF\xBD";
    BOOST_TEST(parsed == "a" + fffd + "b" + fffd + fffd + "c" + fffd + fffd + "d" + fffd + fffd +
                             fffd + "e");
}

BOOST_AUTO_TEST_CASE(sending_record_format) {
    std::string out;
    append_sending_record(out, 12, "org_1/c_9/ch_3");
    BOOST_TEST(out == "{\"line\":12,\"key\":\"org_1/c_9/ch_3\",\"outcome\":\"sending\"}\n");
}

BOOST_AUTO_TEST_CASE(a_new_journal_starts_with_its_identity) {
    temp_dir dir;
    asio::io_context io;
    {
        journal_writer writer(io.get_executor(), dir.options("in \"put\".csv"));
        BOOST_TEST(writer.records_written() == 0u);
    }
    BOOST_TEST(read_file(dir.options().path) ==
               "{\"journal\":\"invent-dispatch\",\"version\":1,\"input\":\"in \\\"put\\\".csv\"}\n");
}

BOOST_AUTO_TEST_CASE(concurrent_commits_share_one_write) {
    temp_dir dir;
    const auto options = dir.options();
    asio::io_context io;
    journal_writer writer(io.get_executor(), options);
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

BOOST_AUTO_TEST_CASE(buffered_records_are_flushed_and_synced_without_commit) {
    temp_dir dir;
    auto options = dir.options();
    options.flush_interval = std::chrono::milliseconds(10);
    options.sync_interval = std::chrono::milliseconds(20);
    asio::io_context io;
    journal_writer writer(io.get_executor(), options);
    const auto syncs_before = writer.syncs_issued();
    writer.append_sending(2, "o/c/h");
    writer.start();
    BOOST_TEST(read_file(options.path).find("o/c/h") == std::string::npos);
    io.run_for(std::chrono::milliseconds(300));
    BOOST_TEST(read_file(options.path).find("o/c/h") != std::string::npos);
    BOOST_TEST(writer.syncs_issued() > syncs_before);
    writer.close();
}

BOOST_AUTO_TEST_CASE(close_flushes_syncs_and_lets_run_return) {
    temp_dir dir;
    const auto options = dir.options();
    asio::io_context io;
    journal_writer writer(io.get_executor(), options);
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

BOOST_AUTO_TEST_CASE(a_writer_destroyed_while_its_timer_waits_is_safe) {
    temp_dir dir;
    asio::io_context io;
    {
        journal_writer writer(io.get_executor(), dir.options());
        writer.start();
        io.run_for(std::chrono::milliseconds(20));
    }
    io.run();   // the cadence coroutine wakes once, sees the writer closed, and ends
    BOOST_TEST(io.stopped());
}

BOOST_AUTO_TEST_CASE(a_full_disk_stops_the_writer) {
    BOOST_CHECK_EXCEPTION(
        {
            asio::io_context io;
            journal_options options;
            options.path = "/dev/full";
            journal_writer writer(io.get_executor(), options);
        },
        journal_error,
        [](const journal_error& e) {
            return std::string(e.what()) == "/dev/full: write failed: No space left on device";
        });
}

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

BOOST_AUTO_TEST_CASE(a_failed_write_fails_every_waiting_commit) {
    temp_dir dir;
    const auto options = dir.options();
    asio::io_context io;
    journal_writer writer(io.get_executor(), options);
    int failed = 0;
    {
        const file_size_limit limit(fs::file_size(options.path) + 100);
        for (int i = 0; i < 3; ++i)
            spawn(io, [&, i]() -> asio::awaitable<void> {
                writer.append(full_result());
                try {
                    co_await writer.commit();
                } catch (const journal_error& e) {
                    BOOST_TEST(std::string(e.what()).find("write failed") != std::string::npos);
                    ++failed;
                }
            });
        io.run();
    }
    BOOST_TEST(failed == 3);
    // Nothing more may be recorded, and nothing may be sent.
    BOOST_CHECK_THROW(writer.append(full_result()), journal_error);
    BOOST_CHECK_THROW(writer.close(), journal_error);
    // What did reach the file is at most a torn last line, which load repairs.
    const auto state = load_journal(options);
    BOOST_TEST(state.repaired_torn_line);
}

BOOST_AUTO_TEST_CASE(reopening_appends_without_a_second_header) {
    temp_dir dir;
    const auto options = dir.options();
    asio::io_context io;
    for (std::uint64_t run = 0; run < 2; ++run) {
        journal_writer writer(io.get_executor(), options);
        writer.append(final_result(2 + run, "o/c/h" + std::to_string(run), outcome::created));
    }
    const auto lines = lines_of(read_file(options.path));
    BOOST_REQUIRE(lines.size() == 3u);
    BOOST_TEST(lines[0].starts_with("{\"journal\""));
    BOOST_TEST(lines[1].find("o/c/h0") != std::string::npos);
    BOOST_TEST(lines[2].find("o/c/h1") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_missing_journal_is_an_empty_state) {
    temp_dir dir;
    const auto state = load_journal(dir.options());
    BOOST_TEST(state.created.size() == 0u);
    BOOST_TEST(state.records == 0u);
    BOOST_TEST(!state.repaired_torn_line);
}

BOOST_AUTO_TEST_CASE(load_keeps_the_last_word_on_each_key) {
    temp_dir dir;
    const auto options = dir.options();
    asio::io_context io;
    {
        journal_writer writer(io.get_executor(), options);
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
    const auto state = load_journal(options);
    BOOST_TEST(state.records == 10u);
    BOOST_TEST(state.created.contains("o/created/h"));
    BOOST_TEST(state.created.contains("o/unknown-then-created/h"));
    BOOST_TEST(state.created.size() == 2u);
    BOOST_TEST(state.unknown.contains("o/unknown/h"));
    BOOST_TEST(state.unknown.size() == 1u);
    BOOST_TEST(state.dangling.empty());
    BOOST_TEST(!state.repaired_torn_line);
}

BOOST_AUTO_TEST_CASE(whatever_rows_hold_the_journal_reads_back) {
    // An identity that is not UTF-8, an invalid row without a key, an error
    // message with broken UTF-8 and control characters: all still load.
    temp_dir dir;
    const auto options = dir.options("inputs/\xff\xfe.csv");
    asio::io_context io;
    {
        journal_writer writer(io.get_executor(), options);
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
    const auto state = load_journal(options);
    BOOST_TEST(state.records == 3u);
    BOOST_TEST(state.created.contains("o/d/h"));
    BOOST_TEST(!state.repaired_torn_line);
}

BOOST_AUTO_TEST_CASE(a_send_without_an_answer_is_unknown_and_dangling) {
    temp_dir dir;
    const auto options = dir.options();
    asio::io_context io;
    {
        journal_writer writer(io.get_executor(), options);
        writer.append_sending(2, "o/answered/h");
        writer.append_sending(3, "o/lost/h");
        writer.append_sending(4, "o/lost-dup/h");
        writer.append(final_result(2, "o/answered/h", outcome::created));
        writer.append_sending(7, "o/lost-dup/h");   // --allow-duplicates: a second row, same key
        writer.append(final_result(7, "o/lost-dup/h", outcome::created));
        writer.append_sending(8, "o/skipped-meanwhile/h");
        writer.append(final_result(9, "o/skipped-meanwhile/h", outcome::skipped));
    }
    const auto state = load_journal(options);
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
        journal_writer writer(io.get_executor(), options);
        for (const auto& send : state.dangling)
            writer.append(final_result(send.line, send.key, outcome::unknown));
    }
    const auto again = load_journal(options);
    BOOST_TEST(again.dangling.empty());
    BOOST_TEST(again.unknown.contains("o/lost/h"));
    BOOST_TEST(again.unknown.size() == 3u);
}

BOOST_AUTO_TEST_CASE(a_torn_last_line_is_cut_off) {
    temp_dir dir;
    const auto options = dir.options();
    asio::io_context io;
    {
        journal_writer writer(io.get_executor(), options);
        writer.append(final_result(2, "o/whole/h", outcome::created));
    }
    const auto whole = read_file(options.path);
    append_to_file(options.path, R"({"line":3,"key":"o/torn/h","outcome":"crea)");
    BOOST_CHECK_THROW(journal_writer(io.get_executor(), options), journal_error);

    const auto state = load_journal(options);
    BOOST_TEST(state.repaired_torn_line);
    BOOST_TEST(state.records == 1u);
    BOOST_TEST(state.created.contains("o/whole/h"));
    BOOST_TEST(read_file(options.path) == whole);
    {
        journal_writer writer(io.get_executor(), options);
        writer.append(final_result(3, "o/next/h", outcome::created));
    }
    const auto repaired = load_journal(options);
    BOOST_TEST(!repaired.repaired_torn_line);
    BOOST_TEST(repaired.created.size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_crash_at_any_byte_leaves_a_journal_the_next_run_can_finish) {
    temp_dir dir;
    const auto options = dir.options();
    asio::io_context io;
    {
        journal_writer writer(io.get_executor(), options);
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
        const auto state = load_journal(options);   // never refuses its own torn file
        const auto kept = read_file(options.path);
        BOOST_TEST((kept.empty() || kept.back() == '\n'), "cut at " << cut);
        BOOST_TEST(complete.starts_with(kept));
        {
            journal_writer writer(io.get_executor(), options);
            for (const auto& send : state.dangling)
                writer.append(final_result(send.line, send.key, outcome::unknown));
        }
        const auto resumed = load_journal(options);
        BOOST_TEST(!resumed.repaired_torn_line);
        BOOST_TEST(resumed.dangling.empty());
        // Whatever was sent is now either created or unknown: never sent again.
        const bool a_sent = kept.find(R"("key":"o/a/h","outcome":"sending")") != std::string::npos;
        BOOST_TEST((!a_sent || resumed.created.contains("o/a/h") || resumed.unknown.contains("o/a/h")),
                   "cut at " << cut);
        std::ofstream(options.path, std::ios::binary | std::ios::trunc) << complete;
    }
}

BOOST_AUTO_TEST_CASE(an_unparsable_last_line_is_cut_off) {
    temp_dir dir;
    const auto options = dir.options();
    asio::io_context io;
    { journal_writer writer(io.get_executor(), options); }
    const auto header_only = read_file(options.path);
    append_to_file(options.path, "{\"line\":2,\"key\":\"o/c/h\",\"outc\n\n");
    const auto state = load_journal(options);
    BOOST_TEST(state.repaired_torn_line);
    BOOST_TEST(state.records == 0u);
    BOOST_TEST(read_file(options.path) == header_only);
}

BOOST_AUTO_TEST_CASE(a_torn_header_is_cut_off) {
    temp_dir dir;
    const auto options = dir.options();
    append_to_file(options.path, R"({"journal":"invent-dispatch","vers)");
    const auto state = load_journal(options);
    BOOST_TEST(state.repaired_torn_line);
    BOOST_TEST(fs::file_size(options.path) == 0u);
    asio::io_context io;
    { journal_writer writer(io.get_executor(), options); }
    BOOST_TEST(lines_of(read_file(options.path)).size() == 1u);
}

BOOST_AUTO_TEST_CASE(garbage_in_the_middle_is_an_error_naming_the_line) {
    temp_dir dir;
    const auto options = dir.options();
    asio::io_context io;
    {
        journal_writer writer(io.get_executor(), options);
        writer.append(final_result(2, "o/a/h", outcome::created));
    }
    append_to_file(options.path, "not json at all\n");
    {
        journal_writer writer(io.get_executor(), options);
        writer.append(final_result(3, "o/b/h", outcome::created));
    }
    const auto before = read_file(options.path);
    try {
        load_journal(options);
        BOOST_ERROR("load_journal accepted a garbage line");
    } catch (const journal_error& e) {
        BOOST_TEST(std::string(e.what()) == options.path + ":3: not an invent-dispatch journal record");
    }
    BOOST_TEST(read_file(options.path) == before);   // an error repairs nothing
}

BOOST_AUTO_TEST_CASE(another_inputs_journal_is_refused) {
    temp_dir dir;
    asio::io_context io;
    { journal_writer writer(io.get_executor(), dir.options("a.csv")); }
    try {
        load_journal(dir.options("b.csv"));
        BOOST_ERROR("load_journal accepted another input's journal");
    } catch (const journal_error& e) {
        BOOST_TEST(std::string(e.what()) ==
                   dir.options().path + ": this journal belongs to input a.csv, not b.csv");
    }
}

BOOST_AUTO_TEST_CASE(a_file_that_is_not_a_journal_is_left_alone) {
    temp_dir dir;
    const auto options = dir.options();
    append_to_file(options.path, "contact_id,channel_id\nc1,h1");
    BOOST_CHECK_THROW(load_journal(options), journal_error);
    BOOST_TEST(read_file(options.path) == "contact_id,channel_id\nc1,h1");
}

BOOST_AUTO_TEST_CASE(a_million_lines_load) {
    temp_dir dir;
    const auto options = dir.options();
    constexpr std::uint64_t rows = 500'000;   // a sending and a final line each
    {
        asio::io_context io;
        journal_writer writer(io.get_executor(), options);
    }
    {
        std::string text;
        std::string key;
        std::ofstream out(options.path, std::ios::binary | std::ios::app);
        for (std::uint64_t i = 0; i < rows; ++i) {
            const auto line = i + 2;
            key = "org_1/c_" + std::to_string(i) + "/ch_" + std::to_string(i % 7);
            append_sending_record(text, line, key);
            if (i + 3 >= rows) continue;   // the last three were in flight
            auto result = full_result();
            result.line = line;
            result.key = key;
            result.result = i % 10 == 0 ? outcome::unknown
                          : i % 10 == 1 ? outcome::failed
                                        : outcome::created;
            append_result_record(text, result);
            if (text.size() > (1 << 20)) {
                out << text;
                text.clear();
            }
        }
        out << text;
    }
    const auto started = std::chrono::steady_clock::now();
    const auto cpu_started = std::clock();
    const auto state = load_journal(options);
    const double cpu_ms = 1000.0 * double(std::clock() - cpu_started) / CLOCKS_PER_SEC;
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - started;
    BOOST_TEST_MESSAGE("loaded " << state.records << " records ("
                                 << fs::file_size(options.path) / (1 << 20) << " MiB) in "
                                 << took.count() << " ms (" << cpu_ms << " ms of CPU)");

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
