// The HTTP client against a scripted byte-level server (issue 10): servers'
// real misbehaviours, each run checked against the server's own log of what
// it read: no key received twice, no row `created` the server never
// received, no row `unknown` the server never read, http_status kept where
// an answer came.
#include <boost/test/unit_test.hpp>
#include <map>
#include <mutex>
#include <set>

#include "integration/scripted_server.hpp"
#include "integration/support.hpp"

using namespace test_support;
using namespace std::chrono_literals;

namespace {

struct scripted_run {
    process_result result;
    std::vector<boost::json::object> journal;
    std::vector<scripted_request> received;
};

// Runs the binary on `rows` contacts (c_0 ...) against the server, in `dir`
// (kept between runs, so a re-run resumes the same journal).
scripted_run run_against(const scripted_server& server, const temp_dir& dir, int rows,
                         std::vector<std::string> extra = {}) {
    const auto input = dir / "contacts.csv";
    if (!fs::exists(input)) write_contacts_csv(input, rows);
    std::vector<std::string> args{"run",       input.string(), "--base-url",     server.url(), "--quiet",
                                  "--timeout", "5s",           "--max-attempts", "2"};
    if (!server.ca_pem().empty()) {
        write_file(dir / "ca.pem", server.ca_pem());
        args.insert(args.end(), {"--ca-file", (dir / "ca.pem").string()});
    }
    args.insert(args.end(), extra.begin(), extra.end());
    scripted_run run;
    run.result = run_binary(args, {{"INVENT_API_TOKEN", "test-token"}}, dir.path);
    run.journal = read_journal(dir / "contacts.csv.results.jsonl");
    run.received = server.received();
    return run;
}

// The journal against the server's log (the invariants of issue 10).
void check_against_log(const scripted_run& run) {
    std::map<std::string, int> times_received;
    std::map<std::string, int> status_answered;
    for (const auto& r : run.received) {
        ++times_received[r.contact()];
        status_answered[r.contact()] = r.answered_status;
        BOOST_TEST(r.head.find("\r\nAccept-Encoding: identity\r\n") != std::string::npos, r.head);
    }
    for (const auto& [contact, times] : times_received)
        BOOST_TEST(times == 1, contact << " received " << times << " times");
    std::map<std::string, boost::json::object> finals;
    for (const auto& r : run.journal) {
        const auto outcome = str(r, "outcome");
        if (!outcome.empty() && outcome != "sending") finals[str(r, "contact_id")] = r;
    }
    for (const auto& [contact, r] : finals) {
        const auto outcome = str(r, "outcome");
        const bool received = times_received.count(contact) != 0;
        if (outcome == "created" || outcome == "unknown")
            BOOST_TEST(received, contact << " is " << outcome << " but the server never read it");
        if (received && status_answered[contact] != 0) {
            const auto* status = r.if_contains("http_status");
            BOOST_TEST((status != nullptr && status->is_int64() && status->as_int64() == status_answered[contact]),
                       contact << ": the server answered " << status_answered[contact] << ", the journal says "
                               << (status ? boost::json::serialize(*status) : "nothing"));
        }
    }
}

std::map<std::string, int> outcomes(const scripted_run& run) {
    std::map<std::string, int> counts;
    for (const auto& [key, r] : final_by_key(run.journal)) ++counts[str(r, "outcome")];
    return counts;
}

int chat_counter = 0;
std::string created(const scripted_request& r) {
    return http_answer_bytes(201, "Content-Type: application/json\r\n",
                             chat_json("chat_" + r.contact() + "_" + std::to_string(++chat_counter)));
}

// Every row created once, each with the id the server gave it.
void check_all_created(const scripted_run& run, int rows) {
    check_against_log(run);
    BOOST_TEST(run.result.exit_code == 0, run.result.err);
    BOOST_TEST(outcomes(run)["created"] == rows);
    BOOST_TEST(run.received.size() == static_cast<std::size_t>(rows));
    for (const auto& [key, r] : final_by_key(run.journal))
        BOOST_TEST(str(r, "chat_id").rfind("chat_" + str(r, "contact_id") + "_", 0) == 0u,
                   key << ": " << str(r, "chat_id"));
}

}   // namespace

BOOST_AUTO_TEST_SUITE(scripted_http)

BOOST_AUTO_TEST_CASE(interim_answers_are_skipped) {
    for (const bool tls : {false, true}) {
        server_script script;
        script.tls = tls;
        script.answer = [](const scripted_request& r) {
            return "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>; rel=preload\r\n\r\n" +
                   created(r);
        };
        scripted_server server(script);
        temp_dir dir;
        check_all_created(run_against(server, dir, 10, {"--concurrency", "2"}), 10);
    }
}

BOOST_AUTO_TEST_CASE(a_stray_crlf_after_the_body_does_not_spoil_the_next_answer) {
    server_script script;
    script.answer = [](const scripted_request& r) { return created(r) + "\r\n"; };
    scripted_server server(script);
    temp_dir dir;
    check_all_created(run_against(server, dir, 10, {"--concurrency", "2"}), 10);
}

BOOST_AUTO_TEST_CASE(connection_close_is_honoured) {
    server_script script;
    script.answer = [](const scripted_request& r) {
        return http_answer_bytes(201, "Connection: close\r\n",
                                 chat_json("chat_" + r.contact() + "_" + std::to_string(++chat_counter)));
    };
    script.after = after_answer::close_fin;
    scripted_server server(script);
    temp_dir dir;
    const auto run = run_against(server, dir, 10, {"--concurrency", "2"});
    check_all_created(run, 10);
    BOOST_TEST(server.connections() == 10u);
}

// The ways a server closes a connection: plain FIN; over TLS a close_notify
// then the FIN, a FIN alone, or a close_notify with the FIN held.
const std::pair<bool, after_answer> ways_to_close[] = {
    {false, after_answer::close_fin},
    {true, after_answer::close_notify_then_fin},
    {true, after_answer::close_fin},
    {true, after_answer::close_notify_hold},
};

BOOST_AUTO_TEST_CASE(a_server_that_closes_after_each_answer_without_saying_so) {
    for (const auto& [tls, how] : ways_to_close) {
        BOOST_TEST_CONTEXT("tls " << tls << ", close " << static_cast<int>(how)) {
            server_script script;
            script.answer = created;
            script.after = how;
            script.tls = tls;
            scripted_server server(script);
            temp_dir dir;
            // Spaced a little, so the close arrives before the next request
            // would go on the connection: it must be noticed, not written into.
            check_all_created(run_against(server, dir, 8, {"--concurrency", "2", "--rate", "20/s"}), 8);
        }
    }
}

BOOST_AUTO_TEST_CASE(an_idle_close_at_1s_with_requests_2s_apart) {
    for (const auto& [tls, how] : ways_to_close) {
        BOOST_TEST_CONTEXT("tls " << tls << ", idle close " << static_cast<int>(how)) {
            server_script script;
            script.answer = created;
            script.idle_close = 1s;
            script.idle_how = how;
            script.tls = tls;
            scripted_server server(script);
            temp_dir dir;
            check_all_created(run_against(server, dir, 3, {"--concurrency", "1", "--rate", "30/min"}), 3);
            BOOST_TEST(server.connections() == 3u);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_2xx_that_is_not_a_chat_is_unknown_and_not_sent_again) {
    const std::string gzip_bytes("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xab\x56\xca\x4c\x51\xb2", 16);
    server_script script;
    script.answer = [&](const scripted_request& r) {
        const auto c = r.contact();
        if (c == "c_0")
            return http_answer_bytes(200, "Content-Encoding: gzip\r\nContent-Type: application/json\r\n", gzip_bytes);
        if (c == "c_1") return http_answer_bytes(200, "Content-Type: text/html\r\n", "<html>ok</html>");
        if (c == "c_2") return http_answer_bytes(200, "Content-Type: application/json\r\n", R"({"status":"RUNNING"})");
        if (c == "c_3") return std::string("HTTP/1.1 204 No Content\r\n\r\n");
        return http_answer_bytes(201,
                                 "Content-Type: application/json\r\nX-Big: " + std::string(60 * 1024, 'h') + "\r\n",
                                 chat_json("chat_" + c + "_1"));
    };
    scripted_server server(script);
    temp_dir dir;
    const auto run = run_against(server, dir, 5, {"--concurrency", "1"});
    check_against_log(run);
    BOOST_TEST(run.result.exit_code == 1);
    const std::map<std::string, std::string> reasons{
        {"c_0", "content coding we did not ask for (gzip)"},
        {"c_1", "not a JSON object"},
        {"c_2", "has no \"id\""},
        {"c_3", "no body"},
    };
    for (const auto& [key, r] : final_by_key(run.journal)) {
        const auto contact = str(r, "contact_id");
        if (contact == "c_4") {
            BOOST_TEST(str(r, "outcome") == "created");   // a 60 KiB head is fine
            continue;
        }
        BOOST_TEST(str(r, "outcome") == "unknown", contact);
        BOOST_TEST(str(r, "error").find(reasons.at(contact)) != std::string::npos, contact << ": " << str(r, "error"));
    }
    // A re-run sends none of them again.
    const auto again = run_against(server, dir, 5, {"--concurrency", "1"});
    BOOST_TEST(again.received.size() == 5u);
}

BOOST_AUTO_TEST_CASE(a_refused_retry_of_a_doubtful_attempt_leaves_the_row_unknown) {
    // --retry-ambiguous: the first request is read and the connection closed
    // with no answer (the server may have made the chat), the retry is
    // refused. The row must not end failed, or the next run would send it a
    // third time.
    std::map<std::string, int> seen;
    std::mutex seen_mutex;
    server_script script;
    script.answer = [&](const scripted_request& r) {
        const std::lock_guard lock(seen_mutex);
        if (++seen[r.contact()] == 1) return std::string();
        return http_answer_bytes(422, "Content-Type: application/json\r\n", R"({"message":"already exists"})");
    };
    scripted_server server(script);
    temp_dir dir;
    const auto run = run_against(server, dir, 1, {"--retry-ambiguous"});
    BOOST_TEST(run.received.size() == 2u);   // sent twice on purpose: no check_against_log
    BOOST_TEST(run.received.back().answered_status == 422);
    BOOST_TEST_REQUIRE(final_by_key(run.journal).size() == 1u);
    for (const auto& [key, r] : final_by_key(run.journal)) {
        BOOST_TEST(str(r, "outcome") == "unknown");
        BOOST_TEST(str(r, "error").find("an earlier attempt may have created the chat") != std::string::npos,
                   str(r, "error"));
    }
    const auto again = run_against(server, dir, 1, {"--retry-ambiguous"});
    BOOST_TEST(again.received.size() == 2u);   // not sent again
}

BOOST_AUTO_TEST_CASE(an_answer_over_the_limits_keeps_its_status) {
    server_script script;
    script.answer = [](const scripted_request& r) {
        if (r.contact() == "c_0") return http_answer_bytes(201, "", std::string(17 * 1024 * 1024, 'x'));
        return http_answer_bytes(400, "X-Big: " + std::string(70 * 1024, 'h') + "\r\n", "{}");
    };
    scripted_server server(script);
    temp_dir dir;
    const auto run = run_against(server, dir, 2, {"--concurrency", "1"});
    check_against_log(run);
    for (const auto& [key, r] : final_by_key(run.journal)) {
        if (str(r, "contact_id") == "c_0") {
            BOOST_TEST(str(r, "outcome") == "unknown");
            BOOST_TEST(str(r, "error").find("response body over 16 MiB") != std::string::npos, str(r, "error"));
        } else {
            BOOST_TEST(str(r, "outcome") == "failed");
            BOOST_TEST(str(r, "error").find("response head over 64 KiB") != std::string::npos, str(r, "error"));
        }
    }
}

BOOST_AUTO_TEST_CASE(an_expired_certificate_stops_the_batch_with_a_hint) {
    server_script script;
    script.tls = true;
    script.certificates = expired_certificate();
    script.answer = created;
    scripted_server server(script);
    temp_dir dir;
    const auto run = run_against(server, dir, 50, {"--concurrency", "1"});
    BOOST_TEST(run.result.exit_code == 3, run.result.err);
    BOOST_TEST(run.result.err.find("certificate") != std::string::npos, run.result.err);
    BOOST_TEST(run.result.err.find("expired") != std::string::npos, run.result.err);
    BOOST_TEST(run.result.err.find("--ca-file") != std::string::npos, run.result.err);
    BOOST_TEST(run.result.err.find("token") == std::string::npos, run.result.err);
    BOOST_TEST(run.received.empty());
    BOOST_TEST(server.connections() == 1u);   // at once: no retry, no other row
}

BOOST_AUTO_TEST_CASE(fail_fast_stops_a_batch_against_a_closed_port) {
    temp_dir dir;
    const auto input = dir / "contacts.csv";
    write_contacts_csv(input, 50);
    const auto port = unused_port();
    const auto run = run_binary({"run", input.string(), "--base-url", "http://127.0.0.1:" + std::to_string(port),
                                 "--quiet", "--concurrency", "1", "--max-attempts", "2", "--fail-fast", "4"},
                                {{"INVENT_API_TOKEN", "test-token"}}, dir.path);
    BOOST_TEST(run.exit_code == 3, run.err);
    BOOST_TEST(run.err.find("4 attempts in a row failed the same way") != std::string::npos, run.err);
    BOOST_TEST(run.err.find("--fail-fast") != std::string::npos, run.err);
    // Two rows of two attempts each, and no more.
    const auto journal = read_journal(dir / "contacts.csv.results.jsonl");
    unsigned attempts = 0;
    for (const auto& [key, r] : final_by_key(journal)) attempts += static_cast<unsigned>(r.at("attempts").as_int64());
    BOOST_TEST(attempts == 4u);
    BOOST_TEST(final_by_key(journal).size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
