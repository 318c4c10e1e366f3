// The journal as operators meet it (issue 11): one run per journal, only a
// regular file, a batch finished after its input moved, and a journal that
// cannot be written. Checked against the mock's own ledger.
#include <sys/mount.h>
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "integration/mock_session.hpp"
#include "invent_dispatch/config.hpp"
#include "invent_dispatch/dispatcher.hpp"

using namespace test_support;
using invent_dispatch::mock_config;
using invent_dispatch::mock_server;

namespace {

std::size_t occurrences(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

// Every row created exactly once, and none left out.
void every_key_created_once(const mock_server& mock, std::size_t rows) {
    const auto ledger = ledger_of(mock.stats_json());
    BOOST_TEST(ledger.size() == rows);
    for (const auto& [key, entry] : ledger) BOOST_TEST(entry.count == 1, key << " has " << entry.count << " chats");
}

}   // namespace

BOOST_AUTO_TEST_SUITE(journal)

BOOST_AUTO_TEST_CASE(two_runs_started_together_on_one_journal_one_is_refused_naming_the_other) {
    session s(slow_mock(10));
    const auto input = s.dir / "contacts.csv";
    constexpr int rows = 1000;
    write_contacts_csv(input, rows);
    const auto args = s.args(input, {"--quiet", "--concurrency", "4"});
    child_process first(args, s.env(), s.dir.path);
    child_process second(args, s.env(), s.dir.path);
    const auto pids = std::make_pair(first.pid(), second.pid());
    const auto a = first.wait();
    const auto b = second.wait();
    BOOST_TEST_REQUIRE(((a.exit_code == 2) != (b.exit_code == 2)), "exits " << a.exit_code << " and " << b.exit_code);
    const auto& refused = a.exit_code == 2 ? a : b;
    const auto& ran = a.exit_code == 2 ? b : a;
    const auto holder = a.exit_code == 2 ? pids.second : pids.first;
    BOOST_TEST(ran.exit_code == 0, ran.err);
    BOOST_TEST(refused.err.find("another run is using this journal (PID " + std::to_string(holder) + ")") !=
                   std::string::npos,
               refused.err);
    every_key_created_once(s.mock, rows);
}

BOOST_AUTO_TEST_CASE(a_journal_that_is_not_a_regular_file_is_refused_before_anything_is_sent) {
    session s;
    const auto input = s.dir / "contacts.csv";
    write_contacts_csv(input, 20);
    const auto fifo = s.dir / "results.fifo";
    BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    for (const auto& journal : {fifo.string(), std::string("/dev/full"), std::string("/dev/null")}) {
        child_process run(s.args(input, {"--quiet", "--results", journal}), s.env(), s.dir.path);
        const auto result = run.wait_at_most(std::chrono::seconds(60));
        BOOST_TEST_REQUIRE(result.has_value(), journal << ": still running after a minute");
        BOOST_TEST(result->exit_code == 2, journal << ": " << result->err);
        BOOST_TEST(result->err.find(journal + ": is a") != std::string::npos, result->err);
        BOOST_TEST(result->err.find("must be a regular file") != std::string::npos, result->err);
    }
    BOOST_TEST(stat_of(s.mock.stats_json(), "requests") == 0);
}

BOOST_AUTO_TEST_CASE(a_batch_moved_to_another_folder_is_finished_without_sending_twice) {
    session s(slow_mock(5));
    constexpr int rows = 2000;
    fs::create_directory(s.dir / "before");
    fs::create_directory(s.dir / "after");
    const auto input = s.dir / "before" / "contacts.csv";
    const auto journal = s.dir / "before" / "contacts.csv.results.jsonl";
    write_contacts_csv(input, rows);
    child_process first(s.args(input, {"--quiet", "--concurrency", "4"}), s.env(), s.dir.path);
    BOOST_TEST_REQUIRE(wait_for([&] { return fs::exists(journal) && count_lines(journal) > 200; }));
    first.signal(SIGINT);
    BOOST_TEST_REQUIRE(first.wait().exit_code == 130);
    const auto created_before = ledger_of(s.mock.stats_json()).size();
    BOOST_TEST_REQUIRE(created_before < static_cast<std::size_t>(rows));

    const auto moved_input = s.dir / "after" / "contacts.csv";
    fs::rename(input, moved_input);
    fs::rename(journal, s.dir / "after" / "contacts.csv.results.jsonl");
    const auto finished = run_binary(s.args(moved_input, {"--quiet"}), s.env(), s.dir.path);
    BOOST_TEST(finished.exit_code == 0, finished.err);
    BOOST_TEST(finished.err.find(input.string()) != std::string::npos, finished.err);   // says where it came from
    every_key_created_once(s.mock, rows);

    // Another input of that name elsewhere is not this batch.
    fs::create_directory(s.dir / "elsewhere");
    const auto other = s.dir / "elsewhere" / "contacts.csv";
    write_contacts_csv(other, rows, "other_");
    const auto refused =
        run_binary(s.args(other, {"--quiet", "--results", (s.dir / "after" / "contacts.csv.results.jsonl").string()}),
                   s.env(), s.dir.path);
    BOOST_TEST(refused.exit_code == 2, refused.err);
    BOOST_TEST(refused.err.find("nor does the content match") != std::string::npos, refused.err);
    every_key_created_once(s.mock, rows);
}

BOOST_AUTO_TEST_CASE(every_record_has_its_time_and_ids_and_events_frame_each_run) {
    session slow(slow_mock(30000));   // requests hang: a second signal leaves them in flight
    const auto input = slow.dir / "contacts.csv";
    const auto journal = slow.dir / "contacts.csv.results.jsonl";
    write_contacts_csv(input, 30);
    child_process first(slow.args(input, {"--concurrency", "4"}), slow.env(), slow.dir.path);
    // All four at the server: a stop closes a connection still being made,
    // and its row is then not sent at all.
    BOOST_TEST_REQUIRE(wait_for([&] { return stat_of(slow.mock.stats_json(), "requests") == 4; }));
    first.signal(SIGINT);
    BOOST_TEST_REQUIRE(wait_for([&] { return first.stderr_so_far().find("stopping") != std::string::npos; }));
    first.signal(SIGINT);
    BOOST_TEST_REQUIRE(first.wait().exit_code == 130);

    mock_config config;
    config.error_rates = {{429, 0.2}};   // each 429 pauses every request for its Retry-After
    session fast(config);
    child_process second(fast.args(input, {"--quiet", "--results", journal.string()}), fast.env(), fast.dir.path);
    const auto second_pid = second.pid();
    BOOST_TEST(second.wait().exit_code == 1);   // the four in flight are unknown

    const auto records = read_journal(journal);
    std::vector<std::string> events;
    std::size_t unknown = 0, pauses = 0;
    for (std::size_t i = 1; i < records.size(); ++i) {
        const auto& r = records[i];
        const auto at = str(r, "at");
        BOOST_TEST((at.size() == 24 && at[10] == 'T' && at[19] == '.' && at.back() == 'Z'), at);
        BOOST_TEST(std::string(r.begin()[r.size() - 1].key()) == "at");   // the last field
        if (r.contains("event")) {
            events.push_back(str(r, "event"));
            if (str(r, "event") == "pause") {
                ++pauses;
                BOOST_TEST(r.at("status").as_int64() == 429);
                BOOST_TEST(str(r, "until") > at);
            }
            continue;
        }
        const auto outcome = str(r, "outcome");
        if (outcome == "sending") continue;
        BOOST_TEST(!str(r, "org_id").empty());
        BOOST_TEST(!str(r, "contact_id").empty(), str(r, "key"));
        BOOST_TEST(!str(r, "channel_id").empty(), str(r, "key"));
        if (outcome == "unknown") {
            ++unknown;
            BOOST_TEST(r.at("attempts").as_int64() == 0);
            BOOST_TEST(r.at("latency_ms").is_null());
            BOOST_TEST(str(r, "key") == str(r, "org_id") + "/" + str(r, "contact_id") + "/" + str(r, "channel_id"));
        } else {
            BOOST_TEST(r.at("latency_ms").is_double());
        }
    }
    BOOST_TEST(unknown == 4u);
    BOOST_TEST(pauses > 0u);
    // The first run's start and (second signal) end, then the second run's.
    BOOST_REQUIRE(events.size() >= 4u);
    BOOST_TEST(events.front() == "run_start");
    BOOST_TEST(events.back() == "run_end");
    const auto& last = records.back();
    BOOST_TEST(last.at("exit_code").as_int64() == 1);
    for (auto it = records.rbegin(); it != records.rend(); ++it)
        if (str(*it, "event") == "run_start") {
            BOOST_TEST(it->at("pid").as_int64() == second_pid);
            BOOST_TEST(str(*it, "base_url") == fast.mock.url());
            BOOST_TEST(it->at("shard").is_null());
            break;
        }
}

// What the second run must show after a journal failed in the first: exit 3
// with a summary and the error said once, then the rows that were not sent
// (their `sending` records reached the file and were cut back) sent now.
void check_failed_run_then_finish(const session& s, const fs::path& input, int rows, int exit_code,
                                  const std::string& summary, const std::string& log, const fs::path& journal) {
    BOOST_TEST(exit_code == 3, log);
    BOOST_TEST(summary.find("created") != std::string::npos, summary);
    BOOST_TEST(occurrences(log, "No space left on device") == 1u, log);
    BOOST_TEST(ledger_of(s.mock.stats_json()).size() < static_cast<std::size_t>(rows));   // it stopped

    const auto finished = run_binary(s.args(input, {"--quiet", "--results", journal.string()}), s.env(), s.dir.path);
    BOOST_TEST(finished.exit_code <= 1, finished.err);   // rows in flight at the failure may be unknown
    every_key_created_once(s.mock, static_cast<std::size_t>(rows));
    for (const auto& [key, r] : final_by_key(read_journal(journal))) {
        const auto outcome = str(r, "outcome");
        BOOST_TEST((outcome == "created" || outcome == "unknown"), key << " ended " << outcome);
    }
}

BOOST_AUTO_TEST_CASE(a_full_disk_under_the_journal_ends_the_run_with_exit_3_and_the_next_run_finishes) {
    if (::geteuid() != 0) {
        BOOST_TEST_MESSAGE("skipped: mounting a small tmpfs needs root");
        return;
    }
    session s(slow_mock(1));
    constexpr int rows = 3000;
    const auto input = s.dir / "contacts.csv";
    write_contacts_csv(input, rows);
    const auto small = s.dir / "small";
    fs::create_directory(small);
    if (::mount("tmpfs", small.c_str(), "tmpfs", 0, "size=128k") != 0) {
        BOOST_TEST_MESSAGE("skipped: cannot mount a tmpfs here: " << std::strerror(errno));
        return;
    }
    struct unmount {
        fs::path path;
        ~unmount() { ::umount2(path.c_str(), MNT_DETACH); }
    } unmount_at_end{small};

    const auto result = run_binary(
        s.args(input, {"--concurrency", "16", "--results", (small / "results.jsonl").string()}), s.env(), s.dir.path);
    const auto journal = s.dir / "results.jsonl";
    fs::copy_file(small / "results.jsonl", journal);   // the next run on a disk with room
    check_failed_run_then_finish(s, input, rows, result.exit_code, result.err, result.err, journal);
}

// The journal's write seam: lets `allowed` bytes through; then, on the first
// batch holding two `sending` records or more, all of it but its last few
// bytes (so whole `sending` records of requests that never left reach the
// file), and fails every write from then on as a full disk would.
struct disk_fills_mid_group {
    std::size_t allowed;
    bool full = false;
    ssize_t operator()(int fd, const iovec* parts, int count) {
        if (full) {
            errno = ENOSPC;
            return -1;
        }
        std::string batch;
        for (int i = 0; i < count; ++i) batch.append(static_cast<const char*>(parts[i].iov_base), parts[i].iov_len);
        if (batch.size() <= allowed || occurrences(batch, R"("outcome":"sending")") < 2) {
            allowed -= std::min(allowed, batch.size());
            return ::write(fd, batch.data(), batch.size());
        }
        full = true;
        return ::write(fd, batch.data(), batch.size() - 5);
    }
};

BOOST_AUTO_TEST_CASE(a_journal_write_failure_ends_the_run_with_exit_3_and_the_next_run_finishes) {
    session s(slow_mock(1));
    constexpr int rows = 1000;
    const auto input = s.dir / "contacts.csv";
    const auto journal = s.dir / "contacts.csv.results.jsonl";
    write_contacts_csv(input, rows);

    auto args = s.args(input, {"--concurrency", "16", "--quiet"});
    std::vector<const char*> argv{"invent-dispatch"};
    for (const auto& a : args) argv.push_back(a.c_str());
    const auto command = invent_dispatch::parse_command_line(static_cast<int>(argv.size()), argv.data(),
                                                             {{"INVENT_API_TOKEN", "demo-token"}});
    disk_fills_mid_group seam{60'000};
    std::ostringstream summary;
    invent_dispatch::dispatch_context context{&summary, false, std::ref(seam)};

    std::ostringstream log;
    const auto logger = spdlog::default_logger();
    logger->sinks().push_back(std::make_shared<spdlog::sinks::ostream_sink_mt>(log));
    const int exit_code = invent_dispatch::run_dispatch(command.dispatch, context);
    logger->sinks().pop_back();

    BOOST_TEST(seam.full);
    BOOST_TEST(read_file_if_any(journal).back() == '\n');   // whole records only
    check_failed_run_then_finish(s, input, rows, exit_code, summary.str(), log.str(), journal);
}

BOOST_AUTO_TEST_SUITE_END()
