// `invent-dispatch contacts` end to end: the binary against the mock over
// TLS (rows worked out here from the mock's contacts, faults, the pipe into
// `run`), and against a scripted byte-level server for the wire itself.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include <atomic>
#include <functional>
#include <mutex>

#include "integration/support.hpp"
#include "invent_dispatch/input.hpp"
#include "invent_dispatch/mock.hpp"

using namespace test_support;
using invent_dispatch::mock_config;
using invent_dispatch::mock_contact;
using invent_dispatch::mock_server;

namespace {

using row = std::vector<std::string>;

// What a listing of these contacts must give, by SPEC §8's rules, written
// out here rather than taken from the code under test.
struct expected_listing {
    std::vector<row> rows;
    std::size_t blocked = 0, unsubscribed = 0, admins = 0, without_custom = 0;
    std::size_t contacts_with_two_rows = 0;

    std::string summary(std::size_t pages, std::size_t contacts) const {
        return fmt::format("{} pages read, {} contacts seen, {} rows written; left out: {} blocked, {} unsubscribed, "
                           "{} admins, {} without a custom channel",
                           pages, contacts, rows.size(), blocked, unsubscribed, admins, without_custom);
    }
};

expected_listing expected_from(const std::vector<mock_contact>& contacts, bool include_unsubscribed = false,
                               bool include_blocked = false) {
    expected_listing e;
    for (const auto& c : contacts) {
        if (c.blocked && !include_blocked)
            ++e.blocked;
        else if (c.unsubscribed && !include_unsubscribed)
            ++e.unsubscribed;
        else if (c.is_admin)
            ++e.admins;
        else {
            std::size_t rows = 0;
            for (const auto& ch : c.channels) {
                if (ch.type != "custom") continue;
                e.rows.push_back(
                    {c.id, ch.id, c.name, ch.name, ch.username, ch.email, ch.phone, ch.country, ch.language});
                ++rows;
            }
            if (rows == 0) ++e.without_custom;
            if (rows == 2) ++e.contacts_with_two_rows;
        }
    }
    return e;
}

// A CSV file's records through the input stage, the header first.
std::vector<row> read_csv(const fs::path& path) {
    invent_dispatch::csv_reader reader(invent_dispatch::input_file(path.string()), {});
    std::vector<row> rows{reader.header()};
    invent_dispatch::input_record record;
    while (reader.next(record)) {
        BOOST_TEST_REQUIRE(record.problem.empty(), path << ":" << record.line << ": " << record.problem);
        row r;
        for (const auto& field : record.fields) r.emplace_back(field.value);
        rows.push_back(std::move(r));
    }
    return rows;
}

const row header{"contact_id", "channel_id", "contact_name", "channel_name", "username",
                 "email",      "phone",      "country",      "language"};

std::vector<row> with_header(std::vector<row> rows) {
    rows.insert(rows.begin(), header);
    return rows;
}

mock_config listing_mock(std::size_t contacts, std::uint64_t seed = 1) {
    mock_config config;
    config.contacts = contacts;
    config.seed = seed;
    return config;
}

struct contacts_fixture {
    explicit contacts_fixture(mock_config config) : mock(std::move(config)) {
        write_file(dir / "ca.pem", mock.ca_pem());
    }
    std::vector<std::string> args(std::vector<std::string> extra) const {
        std::vector<std::string> all{"contacts", "--base-url", mock.url(), "--ca-file", (dir / "ca.pem").string()};
        all.insert(all.end(), extra.begin(), extra.end());
        return all;
    }
    process_result contacts(std::vector<std::string> extra) const {
        return run_binary(args(std::move(extra)), {{"INVENT_API_TOKEN", "demo-token"}}, dir.path);
    }
    std::map<std::string, std::int64_t> listed_pages() const {
        std::map<std::string, std::int64_t> pages;
        const auto stats = boost::json::parse(mock.stats_json()).as_object();
        for (const auto& [page, count] : stats.at("listed_pages").as_object())
            pages[std::string(page)] = count.to_number<std::int64_t>();
        return pages;
    }
    std::int64_t responses(const char* status) const {
        const auto stats = boost::json::parse(mock.stats_json()).as_object();
        const auto* count = stats.at("responses").as_object().if_contains(status);
        return count ? count->to_number<std::int64_t>() : 0;
    }

    temp_dir dir;
    mock_server mock;
};

std::map<std::string, std::int64_t> each_page_once(int pages) {
    std::map<std::string, std::int64_t> expected;
    for (int page = 1; page <= pages; ++page) expected[std::to_string(page)] = 1;
    return expected;
}

// Only what the test put there: no temporary file left behind.
std::vector<std::string> files_in(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir)) {
        const auto name = entry.path().filename().string();
        if (name != "ca.pem" && !name.starts_with("stdout-") && !name.starts_with("stderr-")) names.push_back(name);
    }
    return names;
}

}   // namespace

BOOST_AUTO_TEST_SUITE(contacts)

BOOST_AUTO_TEST_CASE(eleven_pages_of_contacts_become_exactly_the_expected_rows) {
    contacts_fixture f(listing_mock(1050));
    const auto expected = expected_from(invent_dispatch::make_mock_contacts(1050, 1));
    BOOST_TEST_REQUIRE(expected.contacts_with_two_rows > 0u);   // the mix has what the test is about
    BOOST_TEST_REQUIRE(expected.blocked * expected.unsubscribed * expected.admins * expected.without_custom > 0u);

    const auto result = f.contacts({"--out", (f.dir / "rows.csv").string()});
    BOOST_TEST_REQUIRE(result.exit_code == 0, result.err);
    BOOST_TEST(result.out.empty());
    BOOST_TEST(read_csv(f.dir / "rows.csv") == with_header(expected.rows));
    BOOST_TEST(result.err.find(expected.summary(11, 1050)) != std::string::npos, result.err);
    BOOST_TEST(f.listed_pages() == each_page_once(11));
    BOOST_TEST(files_in(f.dir.path) == std::vector<std::string>{"rows.csv"});
}

// 5 % of the answers 503 and a rate limit answering 429 with Retry-After:
// the same rows, every page read once into the output.
BOOST_AUTO_TEST_CASE(errors_and_a_retry_after_pause_give_the_same_rows) {
    // Seed 5: each answer that is not a 429 draws once, and the second is a 503.
    auto config = listing_mock(1050, 5);
    config.error_rates = {{503, 0.05}};
    config.rate_limit = 4.0;
    config.retry_after = "1";
    contacts_fixture f(config);
    const auto expected = expected_from(invent_dispatch::make_mock_contacts(1050, 5));

    const auto result = f.contacts({"--out", (f.dir / "rows.csv").string(), "--quiet"});
    BOOST_TEST_REQUIRE(result.exit_code == 0, result.err);
    BOOST_TEST(f.responses("503") >= 1);
    BOOST_TEST(f.responses("429") >= 1);
    BOOST_TEST(read_csv(f.dir / "rows.csv") == with_header(expected.rows));
    BOOST_TEST(result.err.find(expected.summary(11, 1050)) != std::string::npos, result.err);
    BOOST_TEST(f.listed_pages() == each_page_once(11));
}

BOOST_AUTO_TEST_CASE(a_page_failing_for_good_leaves_no_out_file) {
    auto config = listing_mock(300);
    config.error_rates = {{500, 1.0}};
    contacts_fixture f(config);
    const auto result = f.contacts({"--out", (f.dir / "rows.csv").string(), "--max-attempts", "2"});
    BOOST_TEST(result.exit_code == 1, result.err);
    BOOST_TEST(result.err.find("page 1 failed after 2 attempts: HTTP 500: injected failure") != std::string::npos,
               result.err);
    BOOST_TEST(result.err.find("nothing written to") != std::string::npos, result.err);
    BOOST_TEST(files_in(f.dir.path).empty());
    BOOST_TEST(f.responses("500") == 2);
}

BOOST_AUTO_TEST_CASE(include_unsubscribed_brings_those_rows_back) {
    contacts_fixture f(listing_mock(400));
    const auto contacts = invent_dispatch::make_mock_contacts(400, 1);
    const auto without = expected_from(contacts);
    const auto with = expected_from(contacts, true);
    BOOST_TEST_REQUIRE(with.rows.size() > without.rows.size());

    const auto result = f.contacts({"--include-unsubscribed", "--format", "jsonl", "--quiet"});
    BOOST_TEST_REQUIRE(result.exit_code == 0, result.err);
    std::vector<row> rows;
    std::istringstream lines(result.out);
    for (std::string line; std::getline(lines, line);) {
        const auto object = boost::json::parse(line).as_object();
        row r;
        for (const auto& name : header) r.emplace_back(object.at(name).as_string());
        rows.push_back(std::move(r));
    }
    BOOST_TEST(rows == with.rows);
    BOOST_TEST(result.err.find(with.summary(4, 400)) != std::string::npos, result.err);
    BOOST_TEST(result.err.find("0 unsubscribed") != std::string::npos, result.err);

    const auto everyone = expected_from(contacts, true, true);
    BOOST_TEST_REQUIRE(everyone.rows.size() > with.rows.size());
    const auto both = f.contacts({"--include-unsubscribed", "--include-blocked", "--quiet"});
    BOOST_TEST_REQUIRE(both.exit_code == 0, both.err);
    write_file(f.dir / "everyone.csv", both.out);
    BOOST_TEST(read_csv(f.dir / "everyone.csv") == with_header(everyone.rows));
}

BOOST_AUTO_TEST_CASE(a_listing_piped_into_run_creates_one_chat_per_row) {
    contacts_fixture f(listing_mock(500));
    std::vector<std::string> keys;
    for (const auto& r : expected_from(invent_dispatch::make_mock_contacts(500, 1)).rows)
        keys.push_back("c/" + r[0] + "/" + r[1]);   // the mock's ids need no encoding
    std::sort(keys.begin(), keys.end());

    const auto base = fmt::format("--base-url '{}' --ca-file ca.pem --quiet", f.mock.url());
    const auto command =
        fmt::format("INVENT_API_TOKEN=demo-token '{0}' contacts {1} 2>contacts.err | "
                    "INVENT_API_TOKEN=demo-token '{0}' run - --format csv {1} --title 'Hello {{{{contact_name}}}}' "
                    "--results results.jsonl",
                    INVENT_BINARY, base);
    BOOST_TEST_REQUIRE(run_with_shell(command, f.dir.path) == 0);

    const auto ledger = ledger_of(f.mock.stats_json());
    std::vector<std::string> created;
    for (const auto& [key, entry] : ledger) {
        created.push_back(key);
        BOOST_TEST(entry.count == 1, key);
    }
    BOOST_TEST(created == keys);
    const auto finals = final_by_key(read_journal(f.dir / "results.jsonl"));
    BOOST_TEST(finals.size() == keys.size());
}

BOOST_AUTO_TEST_CASE(filters_reach_the_server_and_a_refused_token_stops_the_listing) {
    contacts_fixture f(listing_mock(300));
    const auto result = f.contacts({"--segment-id", "seg_vip", "--status", "subscribed", "--quiet"});
    BOOST_TEST_REQUIRE(result.exit_code == 0, result.err);
    std::vector<mock_contact> vip;
    for (const auto& c : invent_dispatch::make_mock_contacts(300, 1))
        if (std::find(c.segment_ids.begin(), c.segment_ids.end(), "seg_vip") != c.segment_ids.end() && !c.blocked &&
            !c.unsubscribed)
            vip.push_back(c);
    BOOST_TEST_REQUIRE(!vip.empty());
    const auto rows_file = f.dir / "vip.csv";
    write_file(rows_file, result.out);
    BOOST_TEST(read_csv(rows_file) == with_header(expected_from(vip).rows));

    // --name and --email, and JSONL for a .jsonl --out.
    const auto named =
        f.contacts({"--name", "SOUZA", "--email", "example.org", "--out", (f.dir / "souza.jsonl").string()});
    BOOST_TEST_REQUIRE(named.exit_code == 0, named.err);
    std::vector<mock_contact> souzas;
    for (const auto& c : invent_dispatch::make_mock_contacts(300, 1))
        if (c.name.find("Souza") != std::string::npos &&
            std::any_of(c.channels.begin(), c.channels.end(),
                        [](const auto& ch) { return ch.email.find("example.org") != std::string::npos; }))
            souzas.push_back(c);
    std::vector<std::string> ids;
    std::istringstream lines(read_file_if_any(f.dir / "souza.jsonl"));
    for (std::string line; std::getline(lines, line);)
        ids.emplace_back(boost::json::parse(line).as_object().at("channel_id").as_string());
    std::vector<std::string> expected_ids;
    for (const auto& r : expected_from(souzas).rows) expected_ids.push_back(r[1]);
    BOOST_TEST_REQUIRE(!expected_ids.empty());
    BOOST_TEST(ids == expected_ids);

    const auto refused = run_binary(f.args({"--quiet"}), {{"INVENT_API_TOKEN", "wrong"}}, f.dir.path);
    BOOST_TEST(refused.exit_code == 3, refused.err);
    BOOST_TEST(refused.err.find("HTTP 401") != std::string::npos, refused.err);
}

BOOST_AUTO_TEST_SUITE_END()

// Against a server that is not ours: exact bytes in, exact bytes out.
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

// Plain HTTP on loopback. Each request head is recorded; `answer` gives the
// bytes to send back for the n-th request (from 0), or "" to close.
class scripted_server {
public:
    using script = std::function<std::string(const std::string& head, int n)>;

    explicit scripted_server(script answer)
        : acceptor_(io_, {net::ip::address_v4::loopback(), 0}),
          answer_(std::move(answer)) {
        thread_ = std::thread([this] { serve(); });
    }
    ~scripted_server() {
        // A blocked accept() is not woken by closing the acceptor: connect to it.
        stopping_ = true;
        boost::system::error_code ignored;
        tcp::socket wake(io_);
        wake.connect(acceptor_.local_endpoint(), ignored);
        thread_.join();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/api"; }
    std::vector<std::string> heads() const {
        std::lock_guard lock(mutex_);
        return heads_;
    }

private:
    void serve() {
        while (!stopping_) {
            tcp::socket socket(io_);
            boost::system::error_code ec;
            acceptor_.accept(socket, ec);
            if (ec || stopping_) return;
            net::streambuf pending;
            for (;;) {
                const auto size = net::read_until(socket, pending, "\r\n\r\n", ec);
                if (ec) break;
                std::string head(net::buffers_begin(pending.data()),
                                 net::buffers_begin(pending.data()) + static_cast<std::ptrdiff_t>(size));
                pending.consume(size);
                int n = 0;
                {
                    std::lock_guard lock(mutex_);
                    heads_.push_back(head);
                    n = static_cast<int>(heads_.size()) - 1;
                }
                const auto reply = answer_(head, n);
                if (reply.empty()) break;
                net::write(socket, net::buffer(reply), ec);
                if (ec) break;
            }
        }
    }

    net::io_context io_;
    tcp::acceptor acceptor_;
    script answer_;
    mutable std::mutex mutex_;
    std::vector<std::string> heads_;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

std::string contact_json(int i) {
    return fmt::format(
        R"({{"id":"ct_{0}","name":"Person {0}","blocked":false,"unsubscribed":false,"is_admin":false,)"
        R"("channels":[{{"id":"ch_{0}","type":"custom","name":"P{0}","username":"p{0}","email":"p{0}@example.com",)"
        R"("phone":null,"country":"PT","language":"pt"}}]}})",
        i);
}

std::string page_json(int first, int count) {
    std::string body = "[";
    for (int i = first; i < first + count; ++i) body += (i > first ? "," : "") + contact_json(i);
    return body + "]";
}

std::string page_of_length(int page, const std::string& body, const std::string& count_header) {
    return fmt::format("HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n{}"
                       "Pagination-Page: {}\r\nContent-Length: {}\r\n\r\n{}",
                       count_header, page, body.size(), body);
}

// Chunked, in pieces that cut through the JSON.
std::string page_chunked(const std::string& body, const std::string& count_header) {
    std::string reply =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + count_header + "Transfer-Encoding: chunked\r\n\r\n";
    for (std::size_t at = 0; at < body.size(); at += 777) {
        const auto piece = body.substr(at, 777);
        reply += fmt::format("{:x}\r\n{}\r\n", piece.size(), piece);
    }
    return reply + "0\r\n\r\n";
}

std::string request_line(const std::string& head) {
    return head.substr(0, head.find("\r\n"));
}

struct scripted_fixture {
    temp_dir dir;
    process_result contacts(const scripted_server& server, std::vector<std::string> extra) {
        std::vector<std::string> args{"contacts",     "--base-url",  server.url(),     "--org-id", "org 1",
                                      "--segment-id", "spring/2026", "--max-attempts", "2"};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_binary(args, {{"INVENT_API_TOKEN", "wire-token"}}, dir.path);
    }
};

std::string target_of_page(int page) {
    return fmt::format("GET /api/orgs/org%201/contacts?segment_id=spring%2F2026&page={}&take=100 HTTP/1.1", page);
}

}   // namespace

BOOST_AUTO_TEST_SUITE(contacts)

BOOST_AUTO_TEST_CASE(pages_a_foreign_server_by_its_headers) {
    // 230 contacts: a full page by Content-Length, a full one chunked, 30 more.
    scripted_server server([](const std::string&, int n) {
        const std::string count = "pagination-count: 230\r\n";
        if (n == 0) return page_of_length(1, page_json(1, 100), "Pagination-Count: 230\r\n");
        if (n == 1) return page_chunked(page_json(101, 100), count);
        if (n == 2) return page_of_length(3, page_json(201, 30), count);
        return std::string();
    });
    scripted_fixture f;
    const auto result = f.contacts(server, {"--quiet"});
    BOOST_TEST_REQUIRE(result.exit_code == 0, result.err);

    const auto heads = server.heads();
    BOOST_TEST_REQUIRE(heads.size() == 3u);
    for (int page = 1; page <= 3; ++page) {
        const auto& head = heads[static_cast<std::size_t>(page - 1)];
        BOOST_TEST(request_line(head) == target_of_page(page));
        BOOST_TEST(head.find("\r\nAuthorization: Bearer wire-token\r\n") != std::string::npos, head);
        BOOST_TEST(head.find("\r\nHost: 127.0.0.1:") != std::string::npos, head);
        BOOST_TEST(head.find("Content-Length") == std::string::npos, head);   // a GET has no body
    }
    const auto rows_file = f.dir / "rows.csv";
    write_file(rows_file, result.out);
    const auto rows = read_csv(rows_file);
    BOOST_TEST_REQUIRE(rows.size() == 231u);
    BOOST_TEST(rows[1] == (row{"ct_1", "ch_1", "Person 1", "P1", "p1", "p1@example.com", "", "PT", "pt"}));
    BOOST_TEST(rows[230][0] == "ct_230");
    BOOST_TEST(result.err.find("3 pages read, 230 contacts seen, 230 rows written") != std::string::npos, result.err);
}

// The count says more is to come, but page 2 keeps failing: exit 1, and the
// --out file, which would have held page 1, does not appear.
BOOST_AUTO_TEST_CASE(a_page_failing_mid_listing_leaves_no_out_file) {
    scripted_server server([](const std::string&, int n) {
        if (n == 0) return page_of_length(1, page_json(1, 100), "pagination-count: 500\r\n");
        const std::string body = R"({"message":"database unavailable"})";
        return fmt::format("HTTP/1.1 502 Bad Gateway\r\nContent-Length: {}\r\n\r\n{}", body.size(), body);
    });
    scripted_fixture f;
    const auto result = f.contacts(server, {"--out", (f.dir / "rows.csv").string()});
    BOOST_TEST(result.exit_code == 1, result.err);
    BOOST_TEST(result.err.find("page 2 failed after 2 attempts: HTTP 502: database unavailable") != std::string::npos,
               result.err);
    BOOST_TEST(files_in(f.dir.path).empty());
    const auto heads = server.heads();
    BOOST_TEST_REQUIRE(heads.size() == 3u);
    BOOST_TEST(request_line(heads[1]) == target_of_page(2));
    BOOST_TEST(request_line(heads[2]) == target_of_page(2));
}

BOOST_AUTO_TEST_SUITE_END()
