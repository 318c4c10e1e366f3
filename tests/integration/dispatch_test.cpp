// End to end over real loopback TLS: the binary against the bundled mock.
#include <boost/test/unit_test.hpp>

#include "integration/support.hpp"
#include "invent_dispatch/mock.hpp"

using namespace test_support;
using invent_dispatch::mock_config;
using invent_dispatch::mock_server;

namespace {

struct mock_fixture {
    explicit mock_fixture(mock_config config = {}) : mock(std::move(config)) {
        write_file(dir / "ca.pem", mock.ca_pem());
    }
    std::vector<std::string> run_args(const fs::path& input, std::vector<std::string> extra = {}) const {
        std::vector<std::string> args{
            "run", input.string(), "--base-url", mock.url(), "--ca-file", (dir / "ca.pem").string(), "--quiet"};
        args.insert(args.end(), extra.begin(), extra.end());
        return args;
    }
    env_map env(const std::string& token = "demo-token") const { return {{"INVENT_API_TOKEN", token}}; }
    // `rows` generated contacts in contacts.csv, dispatched to the mock.
    process_result run_contacts(int rows, std::vector<std::string> extra = {},
                                const std::string& token = "demo-token") const {
        const auto input = dir / "contacts.csv";
        write_contacts_csv(input, rows);
        return run_binary(run_args(input, std::move(extra)), env(token), dir.path);
    }

    temp_dir dir;
    mock_server mock;
};

// Every row in the journal ended failed, with `reason` in its error, or cut
// by the batch's stop while its connection was still being made.
void every_row_failed_with(const fs::path& journal, const std::string& reason) {
    std::size_t with_reason = 0;
    for (const auto& [key, r] : final_by_key(read_journal(journal))) {
        BOOST_TEST(str(r, "outcome") == "failed", key);
        const auto error = str(r, "error");
        with_reason += error.find(reason) != std::string::npos;
        BOOST_TEST((error.find(reason) != std::string::npos || error == "stopped before it was sent"), error);
    }
    BOOST_TEST(with_reason > 0u);
}

}   // namespace

BOOST_AUTO_TEST_SUITE(dispatch)

BOOST_AUTO_TEST_CASE(thousand_rows_create_exactly_one_chat_each) {
    mock_fixture f;
    const auto result = f.run_contacts(1000, {"--concurrency", "64"});
    BOOST_TEST_REQUIRE(result.exit_code == 0, result.err);

    const auto ledger = ledger_of(f.mock.stats_json());
    BOOST_TEST(ledger.size() == 1000u);
    for (const auto& [key, entry] : ledger) BOOST_TEST(entry.count == 1, key);

    const auto records = read_journal(f.dir / "contacts.csv.results.jsonl");
    std::size_t created = 0;
    for (const auto& r : records) {
        if (str(r, "outcome") != "created") continue;
        ++created;
        const auto found = ledger.find(str(r, "key"));
        BOOST_TEST_REQUIRE((found != ledger.end()), str(r, "key"));
        BOOST_TEST(found->second.ids.front() == str(r, "chat_id"));
        BOOST_TEST(r.at("http_status").as_int64() == 200);
        BOOST_TEST(str(r, "chat_status") == "RUNNING");
    }
    BOOST_TEST(created == 1000u);
    BOOST_TEST(final_by_key(records).size() == 1000u);
}

// The pool's first connection fetches a TLS session; the others, opened
// while it is in flight, wait for it and resume it instead of verifying the
// server's certificate chain each.
BOOST_AUTO_TEST_CASE(connections_resume_the_first_tls_session) {
    mock_fixture f;
    const auto result = f.run_contacts(200, {"--concurrency", "16"});
    BOOST_TEST_REQUIRE(result.exit_code == 0, result.err);
    const auto stats = f.mock.stats_json();
    BOOST_TEST(stat_of(stats, "connections") == 16);
    // Bounded by a wait of 250 ms for the first answer, so a very slow
    // machine may open some connections in full; most resume.
    BOOST_TEST(stat_of(stats, "resumed_sessions") > 0);
}

BOOST_AUTO_TEST_CASE(ids_that_look_like_paths_arrive_as_one_segment) {
    mock_fixture f;
    const auto input = f.dir / "odd.csv";
    write_file(input, "contact_id,channel_id,org_id\n../x,a/b,org 1\n?#%,\xC3\xA9t\xC3\xA9,o\n");
    const auto result = run_binary(f.run_args(input), f.env(), f.dir.path);
    BOOST_TEST_REQUIRE(result.exit_code == 0, result.err);
    const auto ledger = ledger_of(f.mock.stats_json());
    BOOST_TEST(ledger.count("org%201/..%2Fx/a%2Fb") == 1u);
    BOOST_TEST(ledger.count("o/%3F%23%25/%C3%A9t%C3%A9") == 1u);
}

BOOST_AUTO_TEST_CASE(wrong_token_fails_rows_with_401) {
    mock_fixture f;
    // With the auth abort out of the way, every row is tried and fails.
    const auto result = f.run_contacts(20, {"--auth-failures", "1000"}, "wrong-token");
    BOOST_TEST(result.exit_code == 1, result.err);
    const auto finals = final_by_key(read_journal(f.dir / "contacts.csv.results.jsonl"));
    BOOST_TEST(finals.size() == 20u);
    for (const auto& [key, r] : finals) {
        BOOST_TEST(str(r, "outcome") == "failed");
        BOOST_TEST(r.at("http_status").as_int64() == 401);
    }
    BOOST_TEST(ledger_of(f.mock.stats_json()).empty());
}

BOOST_AUTO_TEST_CASE(wrong_token_stops_the_batch_after_three_refusals) {
    mock_fixture f;
    const auto result = f.run_contacts(500, {"--concurrency", "1"}, "wrong-token");
    BOOST_TEST(result.exit_code == 3, result.err);
    BOOST_TEST(result.err.find("stopping the batch") != std::string::npos, result.err);
    BOOST_TEST(stat_of(f.mock.stats_json(), "requests") == 3);
}

// With many requests in flight, all of them come back refused; the user is
// told once why the batch stopped, not once per connection.
BOOST_AUTO_TEST_CASE(a_refused_token_is_reported_once_however_many_requests_were_in_flight) {
    mock_fixture f;
    const auto result = f.run_contacts(500, {"--concurrency", "64"}, "wrong-token");
    BOOST_TEST(result.exit_code == 3, result.err);
    BOOST_TEST(stat_of(f.mock.stats_json(), "requests") > 3);   // more than the three that decided
    std::size_t said = 0;
    for (auto at = result.err.find("stopping the batch"); at != std::string::npos;
         at = result.err.find("stopping the batch", at + 1))
        ++said;
    BOOST_TEST(said == 1u, result.err);
}

BOOST_AUTO_TEST_CASE(a_certificate_for_another_host_name_is_refused) {
    mock_config config;
    config.certificates = invent_dispatch::generate_certificates({"invent.example"}, {});
    mock_fixture f(config);
    const auto result = f.run_contacts(10);
    BOOST_TEST(result.exit_code != 0);
    BOOST_TEST(stat_of(f.mock.stats_json(), "requests") == 0);   // nothing reached the server
    every_row_failed_with(f.dir / "contacts.csv.results.jsonl", "certificate");
}

BOOST_AUTO_TEST_CASE(plain_http_to_a_remote_host_is_refused_before_sending) {
    temp_dir dir;
    const auto input = dir / "contacts.csv";
    write_contacts_csv(input, 5);
    const auto result = run_binary({"run", input.string(), "--base-url", "http://api.example.com"},
                                   {{"INVENT_API_TOKEN", "t"}}, dir.path);
    BOOST_TEST(result.exit_code == 2);
    BOOST_TEST(result.err.find("api.example.com") != std::string::npos, result.err);
    BOOST_TEST(!fs::exists(dir / "contacts.csv.results.jsonl"));
}

// The pool looks the host up once for all its connections; those waiting
// for that lookup take its failure too, and every row says why it failed
// (with the fail-fast breaker off: scripted_http tests it).
BOOST_AUTO_TEST_CASE(a_host_that_does_not_resolve_fails_every_row_with_the_reason) {
    temp_dir dir;
    const auto input = dir / "contacts.csv";
    write_contacts_csv(input, 20);
    const auto result = run_binary({"run", input.string(), "--base-url", "https://no-such-host.invalid", "--quiet",
                                    "--concurrency", "8", "--max-attempts", "2", "--fail-fast", "0"},
                                   {{"INVENT_API_TOKEN", "t"}}, dir.path);
    BOOST_TEST(result.exit_code == 1, result.err);
    BOOST_TEST(final_by_key(read_journal(dir / "contacts.csv.results.jsonl")).size() == 20u);
    every_row_failed_with(dir / "contacts.csv.results.jsonl", "cannot resolve no-such-host.invalid");
}

// A failed connect must not leave the connection's timeout pending: with
// --timeout 1h the run would otherwise end (and write its summary) an hour on.
BOOST_AUTO_TEST_CASE(a_refused_connection_ends_the_run_without_waiting_out_the_timeout) {
    temp_dir dir;
    const auto input = dir / "contacts.csv";
    write_contacts_csv(input, 5);
    const auto summary = dir / "summary.json";
    child_process run({"run", input.string(), "--base-url", "http://127.0.0.1:" + std::to_string(unused_port()),
                       "--quiet", "--max-attempts", "1", "--timeout", "1h", "--summary", summary.string()},
                      {{"INVENT_API_TOKEN", "t"}}, dir.path);
    BOOST_TEST_REQUIRE(wait_for([&] { return fs::exists(summary); }), run.stderr_so_far());
    const auto result = run.wait();
    BOOST_TEST(result.exit_code == 1, result.err);
    BOOST_TEST(final_by_key(read_journal(dir / "contacts.csv.results.jsonl")).size() == 5u);
    every_row_failed_with(dir / "contacts.csv.results.jsonl", "cannot connect");
}

// The demo lists a segment from the mock, then dispatches it: a chat for
// every listed row, and both summaries said.
BOOST_AUTO_TEST_CASE(demo_creates_a_chat_for_every_listed_row) {
    temp_dir dir;
    const auto result = run_binary({"demo"}, {}, dir.path);
    BOOST_TEST_REQUIRE(result.exit_code == 0, result.err);
    const auto path_after = [&](const std::string& label) {
        const auto at = result.err.find(label);
        BOOST_TEST_REQUIRE(at != std::string::npos, result.err);
        auto path = result.err.substr(at + label.size());
        path = path.substr(path.find_first_not_of(' '));
        return path.substr(0, path.find('\n'));
    };
    const auto listed = path_after("listing segment seg_spring into");
    const auto rows = count_lines(listed) - 1;   // the CSV header
    BOOST_TEST(rows > 100u);
    BOOST_TEST(result.err.find(std::to_string(rows) + " rows written") != std::string::npos, result.err);
    const auto summary_path = path_after("summary JSON:");
    const auto summary = boost::json::parse(read_file_if_any(summary_path)).as_object();
    const auto folder = fs::path(summary_path).parent_path();
    BOOST_TEST(fs::path(listed).parent_path() == folder);
    BOOST_TEST(fs::exists(path_after("HTML report:")));
    fs::remove_all(folder);
    BOOST_TEST(summary.at("outcomes").at("created").to_number<std::size_t>() == rows);
    BOOST_TEST(summary.at("rows").to_number<std::size_t>() == rows);
}

// Issue 12 finding 9: the demo wrote into /tmp/invent-dispatch-demo-<pid>,
// a name anyone could plant (a folder of theirs, links in it) beforehand,
// and took a folder that was already there. Its files are opened by name in
// its folder, so the folder must be new and private: under $TMPDIR, a fresh
// name each run (mkdtemp), mode 0700, everything the demo wrote inside it.
BOOST_AUTO_TEST_CASE(demo_writes_into_a_new_private_folder_each_run) {
    temp_dir dir;
    const auto tmp = dir / "tmp";
    fs::create_directory(tmp);
    std::vector<fs::path> folders;
    for (int run = 0; run < 2; ++run) {
        const auto result = run_binary({"demo"}, {{"TMPDIR", tmp.string()}}, dir.path);
        BOOST_TEST_REQUIRE(result.exit_code == 0, result.err);
        const auto at = result.err.find("summary JSON:");
        BOOST_TEST_REQUIRE(at != std::string::npos, result.err);
        auto summary = result.err.substr(at + 13);
        summary = summary.substr(summary.find_first_not_of(' '));
        folders.push_back(fs::path(summary.substr(0, summary.find('\n'))).parent_path());
    }
    BOOST_TEST(folders[0] != folders[1]);
    std::size_t entries = 0;
    for (const auto& entry : fs::directory_iterator(tmp)) {
        ++entries;
        BOOST_TEST((entry.path() == folders[0] || entry.path() == folders[1]), entry.path());
    }
    BOOST_TEST(entries == 2u);   // nothing written beside them
    for (const auto& folder : folders) {
        BOOST_TEST(folder.filename().string().rfind("invent-dispatch-demo-", 0) == 0u, folder);
        const auto status = fs::symlink_status(folder);
        BOOST_TEST(fs::is_directory(status), folder);
        BOOST_TEST(static_cast<unsigned>(status.permissions() & fs::perms::all) == 0700u, folder);
        for (const auto& file : {"spring.csv", "spring.csv.results.jsonl", "summary.json", "report.html"})
            BOOST_TEST(fs::is_regular_file(fs::symlink_status(folder / file)), folder / file);
    }
}

BOOST_AUTO_TEST_SUITE_END()
