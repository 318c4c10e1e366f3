// The mock over real loopback sockets: a small synchronous Beast client that
// trusts the mock's CA and verifies the host name, as the dispatcher must.
#include "integration/support.hpp"
#include "invent_dispatch/encoding.hpp"
#include "invent_dispatch/mock.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/test/unit_test.hpp>
#include <simdjson.h>

#include <algorithm>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using invent_dispatch::mock_config;
using invent_dispatch::mock_server;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

const std::string token = "test-token";

mock_config base_config() {
    mock_config config;
    config.token = token;
    return config;
}

// One connection to the mock; throws boost::system::system_error on failure.
class test_client {
    // First, so the deduced return type is known where it is used.
    template <class F>
    decltype(auto) with_stream(F&& f) {
        if (tls_) return f(*tls_);
        return f(*plain_);
    }

public:
    explicit test_client(const mock_server& server, std::string host = "localhost", std::string address = "127.0.0.1")
        : endpoint_(net::ip::make_address(address), server.port()) {
        if (server.ca_pem().empty()) {
            plain_.emplace(io_);
            plain_->connect(endpoint_);
            return;
        }
        tls_context_.add_certificate_authority(net::buffer(server.ca_pem()));
        tls_context_.set_verify_mode(ssl::verify_peer);
        tls_.emplace(io_, tls_context_);
        SSL_set_tlsext_host_name(tls_->native_handle(), host.c_str());
        tls_->set_verify_callback(ssl::host_name_verification(host));
        tls_->next_layer().connect(endpoint_);
        tls_->handshake(ssl::stream_base::client);
    }

    response send(request req) {
        req.prepare_payload();
        return with_stream([&](auto& stream) {
            http::write(stream, req);
            response res;
            http::read(stream, buffer_, res);
            return res;
        });
    }

    void send_raw(std::string_view bytes) {
        with_stream([&](auto& stream) { net::write(stream, net::buffer(bytes)); });
    }

    response receive() {
        return with_stream([&](auto& stream) {
            response res;
            http::read(stream, buffer_, res);
            return res;
        });
    }

    // Blocks until the server ends the connection (any error counts).
    bool closed_by_server() {
        boost::system::error_code ec;
        with_stream([&](auto& stream) {
            response res;
            http::read(stream, buffer_, res, ec);
        });
        return static_cast<bool>(ec);
    }

private:
    net::io_context io_;
    tcp::endpoint endpoint_;
    ssl::context tls_context_{ssl::context::tls_client};
    std::optional<ssl::stream<beast::tcp_stream>> tls_;
    std::optional<beast::tcp_stream> plain_;
    beast::flat_buffer buffer_;
};

struct chat_ids {
    std::string org = "org_1", contact = "c_9", channel = "ch_3";
    std::string key() const { return invent_dispatch::make_chat_key(org, contact, channel); }
    std::string target() const {
        std::string path;
        invent_dispatch::append_chat_path(path, key());
        return path;
    }
};

std::string serialize(request req) {
    req.prepare_payload();
    std::ostringstream bytes;
    bytes << req;
    return bytes.str();
}

request create_request(const chat_ids& ids, std::string body = R"({"title":"Hello"})", std::string bearer = token) {
    request req{http::verb::post, ids.target(), 11};
    req.set(http::field::host, "localhost");
    req.set(http::field::authorization, "Bearer " + bearer);
    req.set(http::field::content_type, "application/json");
    req.body() = std::move(body);
    return req;
}

// Parsed JSON that keeps its parser alive (a dom::element dies with it).
struct json_document {
    explicit json_document(const std::string& text) : root(parser.parse(text)) {}
    simdjson::dom::parser parser;
    simdjson::dom::element root;
};

std::uint64_t stat(const mock_server& server, std::string_view name) {
    const json_document stats(server.stats_json());
    return std::uint64_t(stats.root[name]);
}

std::uint64_t ledger_field(const mock_server& server, const std::string& key, std::string_view field) {
    const json_document stats(server.stats_json());
    return std::uint64_t(stats.root["chats"][key][field]);
}

std::string message_of(const response& res) {
    const json_document error(res.body());
    return std::string(std::string_view(error.root["message"]));
}

}   // namespace

BOOST_AUTO_TEST_SUITE(mock)

BOOST_AUTO_TEST_CASE(creates_a_chat_and_records_it_under_the_encoded_key) {
    mock_server server(base_config());
    test_client client(server);
    chat_ids ids;
    ids.org = "org 1";
    ids.contact = "c/9%\xC3\xA9";   // "/", "%" and a non-ASCII é in one id
    const std::string title = "Spring \"offer\" \xE2\x9C\x93";
    const auto res = client.send(create_request(
        ids, R"({"assistant_id":"asst_1","title":"Spring \"offer\" \u2713","message":[{"type":"text","text":"Hi"}]})"));

    BOOST_TEST(res.result_int() == 200);
    BOOST_TEST(res[http::field::content_type] == "application/json");
    const json_document chat(res.body());
    const std::string id(std::string_view(chat.root["id"]));
    BOOST_TEST(id.starts_with("chat_"));
    BOOST_TEST(std::string_view(chat.root["title"]) == title);
    BOOST_TEST(std::string_view(chat.root["status"]) == "RUNNING");
    BOOST_TEST(std::string_view(chat.root["link"]) == "https://app.useinvent.com/chats/" + id);
    BOOST_TEST(std::string_view(chat.root["state"]["state"]) == "OPEN");
    BOOST_TEST(std::string_view(chat.root["state"]["assistant_id"]) == "asst_1");
    BOOST_TEST(std::string_view(chat.root["org_id"]) == "org 1");
    BOOST_TEST(std::string_view(chat.root["created_at"]).size() == 20u);

    BOOST_TEST(ids.key() == "org%201/c%2F9%25%C3%A9/ch_3");
    BOOST_TEST(ledger_field(server, ids.key(), "count") == 1u);
    BOOST_TEST(ledger_field(server, ids.key(), "ambiguous") == 0u);
    const json_document stats(server.stats_json());
    BOOST_TEST(std::string_view(stats.root["chats"][ids.key()]["ids"].at(0)) == id);
    BOOST_TEST(std::uint64_t(stats.root["responses"]["200"]) == 1u);
    BOOST_TEST(std::uint64_t(stats.root["created"]) == 1u);
}

BOOST_AUTO_TEST_CASE(rejects_a_wrong_or_missing_token) {
    mock_server server(base_config());
    test_client client(server);
    const auto wrong = client.send(create_request({}, "{}", "not-the-token"));
    BOOST_TEST(wrong.result_int() == 401);
    BOOST_TEST(!message_of(wrong).empty());

    auto anonymous = create_request({});
    anonymous.erase(http::field::authorization);
    BOOST_TEST(client.send(anonymous).result_int() == 401);
    BOOST_TEST(stat(server, "created") == 0u);
}

BOOST_AUTO_TEST_CASE(answers_404_for_other_paths_and_405_for_other_methods) {
    mock_server server(base_config());
    test_client client(server);
    auto req = create_request({});
    req.target("/orgs/org_1/contacts/c_9/chats");
    const auto not_found = client.send(req);
    BOOST_TEST(not_found.result_int() == 404);
    BOOST_TEST(!message_of(not_found).empty());

    auto get = create_request({});
    get.method(http::verb::get);
    get.body().clear();
    const auto wrong_method = client.send(get);
    BOOST_TEST(wrong_method.result_int() == 405);
    BOOST_TEST(wrong_method[http::field::allow] == "POST");
}

BOOST_AUTO_TEST_CASE(rejects_invalid_bodies_with_a_message) {
    mock_server server(base_config());
    test_client client(server);
    std::string long_title;
    for (int i = 0; i < 256; ++i) long_title += "\xC3\xA9";   // 256 code points, 512 bytes

    for (const std::string& body :
         {std::string(R"({"title":)"), std::string("[1,2]"), std::string(), R"({"title":")" + long_title + R"(e"})",
          std::string(R"({"message":[]})"), std::string(R"({"message":[{"type":"image"}]})"),
          std::string(R"({"title":"ok","extra":tru})")}) {
        const auto res = client.send(create_request({}, body));
        BOOST_TEST(res.result_int() == 400, "body: " << body);
        BOOST_TEST(!message_of(res).empty());
    }
    const auto at_limit = client.send(create_request({}, R"({"title":")" + long_title + R"("})"));
    BOOST_TEST(at_limit.result_int() == 200);
    BOOST_TEST(stat(server, "created") == 1u);
}

BOOST_AUTO_TEST_CASE(keeps_a_connection_alive_across_requests) {
    auto config = base_config();
    config.latency = std::chrono::milliseconds(1);   // exercises the latency timer
    config.latency_jitter = std::chrono::milliseconds(2);
    mock_server server(config);
    test_client client(server);
    for (int i = 0; i < 5; ++i) {
        const auto res = client.send(create_request({}));
        BOOST_TEST(res.result_int() == 200);
        BOOST_TEST(res.keep_alive());
    }
    BOOST_TEST(stat(server, "connections") == 1u);
    BOOST_TEST(ledger_field(server, chat_ids{}.key(), "count") == 5u);
}

BOOST_AUTO_TEST_CASE(closes_after_max_requests_per_connection) {
    auto config = base_config();
    config.max_requests_per_connection = 2;
    mock_server server(config);
    test_client client(server);
    BOOST_TEST(client.send(create_request({})).keep_alive());
    const auto second = client.send(create_request({}));
    BOOST_TEST(second.result_int() == 200);
    BOOST_TEST(!second.keep_alive());
    BOOST_TEST(client.closed_by_server());
}

BOOST_AUTO_TEST_CASE(idle_timeout_is_announced_and_enforced) {
    auto config = base_config();
    config.idle_timeout = std::chrono::milliseconds(100);
    mock_server server(config);
    test_client client(server);
    const auto res = client.send(create_request({}));
    BOOST_TEST(res[http::field::keep_alive] == "timeout=1");
    BOOST_TEST(client.closed_by_server());
    // The mock counts the close after making it: the client may see it first.
    for (int i = 0; i < 200 && stat(server, "idle_closed") == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    BOOST_TEST(stat(server, "idle_closed") == 1u);
}

BOOST_AUTO_TEST_CASE(injected_503_carries_retry_after_and_creates_nothing) {
    auto config = base_config();
    config.error_rates = {{503, 1.0}};
    config.retry_after = "7";
    mock_server server(config);
    test_client client(server);
    const auto res = client.send(create_request({}));
    BOOST_TEST(res.result_int() == 503);
    BOOST_TEST(res[http::field::retry_after] == "7");
    BOOST_TEST(!message_of(res).empty());
    BOOST_TEST(stat(server, "created") == 0u);
}

BOOST_AUTO_TEST_CASE(rate_limit_answers_429_with_retry_after) {
    auto config = base_config();
    config.rate_limit = 1.0;
    mock_server server(config);
    test_client client(server);
    // Without timing assumptions: within a handful of back-to-back requests
    // two must share a one-second window.
    std::optional<response> limited;
    unsigned created = 0;
    for (int i = 0; i < 20 && !limited; ++i) {
        auto res = client.send(create_request({}));
        if (res.result_int() == 429)
            limited = std::move(res);
        else
            created += res.result_int() == 200;
    }
    BOOST_REQUIRE(limited);
    BOOST_TEST((*limited)[http::field::retry_after] == "1");
    BOOST_TEST(stat(server, "created") == created);
}

BOOST_AUTO_TEST_CASE(the_rate_limit_is_kept_secret_unless_asked) {
    auto config = base_config();
    config.rate_limit = 3;
    mock_server server(config);
    test_client client(server);
    const auto res = client.send(create_request({}));
    BOOST_TEST(res.result_int() == 200);
    for (const auto* name :
         {"RateLimit", "RateLimit-Policy", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"})
        BOOST_TEST(res.count(name) == 0u, name);
}

BOOST_AUTO_TEST_CASE(the_rate_limit_advertised_in_draft_or_x_headers) {
    // The first request of a fresh window: 3 allowed, 2 left, a slot frees within a second.
    auto config = base_config();
    config.rate_limit = 3;
    config.rate_limit_headers = mock_config::limit_headers::draft;
    {
        mock_server server(config);
        test_client client(server);
        const auto res = client.send(create_request({}));
        BOOST_TEST(res.result_int() == 200);
        BOOST_TEST(res["RateLimit-Policy"] == "3;w=1");
        BOOST_TEST(res["RateLimit"] == "limit=3, remaining=2, reset=1");
        BOOST_TEST(res.count("X-RateLimit-Limit") == 0u);
    }
    config.rate_limit_headers = mock_config::limit_headers::x;
    config.rate_limit = 0.5;   // one request per two seconds
    mock_server server(config);
    test_client client(server);
    const auto res = client.send(create_request({}));
    BOOST_TEST(res["X-RateLimit-Limit"] == "1");
    BOOST_TEST(res["X-RateLimit-Remaining"] == "0");
    BOOST_TEST(res["X-RateLimit-Reset"] == "2");
    BOOST_TEST(res.count("RateLimit") == 0u);
    // The refusal tells the same: nothing left.
    const auto refused = client.send(create_request({}));
    BOOST_TEST(refused.result_int() == 429);
    BOOST_TEST(refused["X-RateLimit-Remaining"] == "0");
}

BOOST_AUTO_TEST_CASE(the_rate_limit_changes_after_the_set_time) {
    // No limit at first, then 1 per second from the first request on: the
    // change applies from its time, counted from the first create request.
    auto config = base_config();
    config.rate_limit_after = mock_config::rate_limit_change{std::chrono::milliseconds(0), 1.0};
    config.rate_limit_headers = mock_config::limit_headers::draft;
    {
        mock_server server(config);
        test_client client(server);
        BOOST_TEST(client.send(create_request({}))["RateLimit-Policy"] == "1;w=1");
        BOOST_TEST(client.send(create_request({})).result_int() == 429);
    }
    config.rate_limit = 1000;
    config.rate_limit_after = mock_config::rate_limit_change{std::chrono::hours(1), 1.0};
    mock_server server(config);
    test_client client(server);
    BOOST_TEST(client.send(create_request({}))["RateLimit-Policy"] == "1000;w=1");
}

BOOST_AUTO_TEST_CASE(stats_count_each_second_of_create_requests) {
    auto config = base_config();
    config.rate_limit = 2;
    mock_server server(config);
    test_client client(server);
    int refused = 0;
    for (int i = 0; i < 6; ++i) refused += client.send(create_request({})).result_int() == 429;
    const json_document stats(server.stats_json());
    std::uint64_t requests = 0, created = 0, limited = 0;
    const simdjson::dom::array seconds = stats.root["seconds"];
    for (const simdjson::dom::element second : seconds) {
        const simdjson::dom::array counts = second;
        BOOST_TEST_REQUIRE(counts.size() == 3u);
        requests += std::uint64_t(counts.at(0));
        created += std::uint64_t(counts.at(1));
        limited += std::uint64_t(counts.at(2));
    }
    BOOST_TEST(requests == 6u);
    BOOST_TEST(created == stat(server, "created"));
    BOOST_TEST(limited == static_cast<std::uint64_t>(refused));
}

BOOST_AUTO_TEST_CASE(drop_on_accept_fails_the_handshake_before_anything_is_sent) {
    auto config = base_config();
    config.drop_on_accept = 1.0;
    mock_server server(config);
    BOOST_CHECK_THROW(test_client{server}, boost::system::system_error);
    BOOST_TEST(stat(server, "dropped_on_accept") == 1u);
    BOOST_TEST(stat(server, "requests") == 0u);
}

BOOST_AUTO_TEST_CASE(drop_before_response_leaves_an_ambiguous_chat) {
    auto config = base_config();
    config.drop_before_response = 1.0;
    mock_server server(config);
    test_client client(server);
    BOOST_CHECK_THROW(client.send(create_request({})), boost::system::system_error);
    BOOST_TEST(stat(server, "dropped_before_response") == 1u);
    BOOST_TEST(ledger_field(server, chat_ids{}.key(), "count") == 1u);
    BOOST_TEST(ledger_field(server, chat_ids{}.key(), "ambiguous") == 1u);
}

BOOST_AUTO_TEST_CASE(malformed_body_creates_no_chat) {
    auto config = base_config();
    config.malformed_rate = 1.0;
    mock_server server(config);
    test_client client(server);
    const auto res = client.send(create_request({}));
    BOOST_TEST(res.result_int() == 200);
    simdjson::dom::parser parser;
    simdjson::dom::element ignored;
    BOOST_TEST(parser.parse(res.body()).get(ignored) != simdjson::SUCCESS);
    BOOST_TEST(stat(server, "malformed") == 1u);
    BOOST_TEST(stat(server, "created") == 0u);
}

BOOST_AUTO_TEST_CASE(idempotency_key_replays_the_first_chat) {
    auto config = base_config();
    config.honour_idempotency = true;
    mock_server server(config);
    test_client client(server);
    auto req = create_request({});
    req.set("Idempotency-Key", "row-1");
    const json_document first(client.send(req).body());
    const json_document again(client.send(req).body());
    BOOST_TEST(std::string_view(first.root["id"]) == std::string_view(again.root["id"]));
    req.set("Idempotency-Key", "row-2");
    const json_document other(client.send(req).body());
    BOOST_TEST(std::string_view(other.root["id"]) != std::string_view(first.root["id"]));

    BOOST_TEST(ledger_field(server, chat_ids{}.key(), "count") == 2u);
    BOOST_TEST(stat(server, "idempotent_replays") == 1u);
}

BOOST_AUTO_TEST_CASE(serves_plain_http) {
    auto config = base_config();
    config.plain = true;
    mock_server server(config);
    BOOST_TEST(server.url().starts_with("http://127.0.0.1:"));
    BOOST_TEST(server.ca_pem().empty());
    test_client client(server);
    BOOST_TEST(client.send(create_request({})).result_int() == 200);
    BOOST_TEST(stat(server, "created") == 1u);
}

BOOST_AUTO_TEST_CASE(serves_ipv6_loopback_with_an_ip_address_in_the_certificate) {
    auto config = base_config();
    config.host = "::1";
    mock_server server(config);
    BOOST_TEST(server.url() == "https://[::1]:" + std::to_string(server.port()));
    test_client client(server, "::1", "::1");   // verified against the IP subjectAltName
    BOOST_TEST(client.send(create_request({})).result_int() == 200);
}

BOOST_AUTO_TEST_CASE(a_certificate_for_another_host_name_is_rejected) {
    auto config = base_config();
    config.certificates = invent_dispatch::generate_certificates({"other.example"}, {});
    mock_server server(config);
    BOOST_CHECK_THROW(test_client(server, "localhost"), boost::system::system_error);
    // The same certificate under its own name passes: the name was the reason.
    test_client named(server, "other.example");
    BOOST_TEST(named.send(create_request({})).result_int() == 200);
}

BOOST_AUTO_TEST_CASE(survives_garbage_and_oversized_requests) {
    mock_server server(base_config());
    {
        test_client client(server);
        client.send_raw("\x01\x02 garbage\r\n\r\n");
        BOOST_TEST(client.receive().result_int() == 400);
    }
    {
        test_client client(server);
        auto req = create_request({});
        req.content_length(2 * 1024 * 1024);   // announced, never sent
        std::ostringstream header;
        header << req.base();
        client.send_raw(header.str());
        BOOST_TEST(client.receive().result_int() == 413);
    }
    {
        test_client client(server);
        client.send_raw("POST /orgs/a/contacts/b/ch");   // then hangs up mid-request
    }
    test_client client(server);
    BOOST_TEST(client.send(create_request({})).result_int() == 200);
}

BOOST_AUTO_TEST_CASE(stats_and_reset_over_http) {
    mock_server server(base_config());
    test_client client(server);
    BOOST_TEST(client.send(create_request({})).result_int() == 200);

    request stats_request{http::verb::get, "/_mock/stats", 11};
    const auto stats = client.send(stats_request);
    BOOST_TEST(stats.result_int() == 200);
    BOOST_TEST(stats.body() == server.stats_json());
    const json_document parsed(stats.body());
    BOOST_TEST(std::uint64_t(parsed.root["requests"]) == 1u);
    BOOST_TEST(std::uint64_t(parsed.root["max_in_any_second"]) == 1u);
    BOOST_TEST(std::uint64_t(parsed.root["create_span_us"]) == 0u);   // one arrival spans no time
    BOOST_TEST(client.send(create_request({})).result_int() == 200);
    BOOST_TEST(stat(server, "create_span_us") > 0u);   // a round trip lies between two

    BOOST_TEST(client.send(request{http::verb::post, "/_mock/reset", 11}).result_int() == 200);
    BOOST_TEST(stat(server, "created") == 0u);
    BOOST_TEST(server.stats_json().find("\"chats\":{}") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_same_seed_gives_the_same_faults) {
    auto config = base_config();
    config.error_rates = {{500, 0.3}, {503, 0.2}};
    config.seed = 42;
    const auto statuses = [&] {
        mock_server server(config);
        test_client client(server);
        std::vector<unsigned> seen;
        for (int i = 0; i < 30; ++i) seen.push_back(client.send(create_request({})).result_int());
        return seen;
    };
    const auto first = statuses();
    BOOST_TEST(first == statuses(), boost::test_tools::per_element());
    BOOST_TEST(std::count(first.begin(), first.end(), 200u) < 30);
    BOOST_TEST(std::count(first.begin(), first.end(), 200u) > 0);
}

BOOST_AUTO_TEST_CASE(refuses_to_listen_beyond_loopback) {
    auto config = base_config();
    config.host = "0.0.0.0";
    BOOST_CHECK_THROW(mock_server{config}, std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(stops_promptly_with_idle_and_waiting_connections) {
    auto config = base_config();
    config.latency = std::chrono::seconds(30);   // a request parked in the latency wait
    std::optional<mock_server> server(std::in_place, config);
    test_client idle(*server);
    test_client waiting(*server);
    waiting.send_raw(serialize(create_request({})));
    BOOST_REQUIRE_MESSAGE(
        test_support::wait_for([&] { return stat(*server, "requests") > 0; }, std::chrono::seconds(30)),
        "the mock never counted the request");

    server.reset();   // must not wait out the latency nor the idle connection
    BOOST_TEST(waiting.closed_by_server());
    BOOST_TEST(idle.closed_by_server());
}

// The contacts listing (SPEC §8).

request list_request(const std::string& query, std::string bearer = token) {
    request req{http::verb::get, "/orgs/c/contacts" + query, 11};
    req.set(http::field::host, "localhost");
    req.set(http::field::authorization, "Bearer " + bearer);
    return req;
}

mock_config listing_config(std::size_t contacts) {
    auto config = base_config();
    config.contacts = contacts;
    return config;
}

BOOST_AUTO_TEST_CASE(lists_the_generated_contacts_in_pages_with_pagination_headers) {
    mock_server server(listing_config(250));
    const auto contacts = invent_dispatch::make_mock_contacts(250, base_config().seed);
    test_client client(server);
    const auto res = client.send(list_request("?page=3&take=100"));
    BOOST_TEST_REQUIRE(res.result_int() == 200);
    BOOST_TEST(res["pagination-count"] == "250");
    BOOST_TEST(res["pagination-page"] == "3");
    BOOST_TEST(res["pagination-take"] == "100");
    const json_document page(res.body());
    const simdjson::dom::array listed = page.root;
    BOOST_TEST_REQUIRE(listed.size() == 50u);
    std::size_t i = 200;
    for (const auto element : listed) {
        const auto& expected = contacts[i++];
        BOOST_TEST(std::string_view(element["id"]) == expected.id);
        BOOST_TEST(bool(element["blocked"]) == expected.blocked);
        BOOST_TEST(bool(element["unsubscribed"]) == expected.unsubscribed);
        BOOST_TEST(bool(element["is_admin"]) == expected.is_admin);
        if (expected.name.empty())
            BOOST_TEST(element["name"].is_null());
        else
            BOOST_TEST(std::string_view(element["name"]) == expected.name);
        const simdjson::dom::array channels = element["channels"];
        BOOST_TEST_REQUIRE(channels.size() == expected.channels.size());
        std::size_t c = 0;
        for (const auto channel : channels) {
            BOOST_TEST(std::string_view(channel["id"]) == expected.channels[c].id);
            BOOST_TEST(std::string_view(channel["type"]) == expected.channels[c].type);
            ++c;
        }
    }
    BOOST_TEST(std::uint64_t(json_document(server.stats_json()).root["listed_pages"]["3"]) == 1u);
    // Past the end: an empty page, the same count.
    const auto beyond = client.send(list_request("?page=4&take=100"));
    BOOST_TEST(beyond.body() == "[]");
    BOOST_TEST(beyond["pagination-count"] == "250");
}

BOOST_AUTO_TEST_CASE(the_contacts_have_the_documented_mix) {
    const auto contacts = invent_dispatch::make_mock_contacts(1050, 1);
    const auto count = [&](auto predicate) { return std::count_if(contacts.begin(), contacts.end(), predicate); };
    const auto customs = [](const invent_dispatch::mock_contact& c) {
        return std::count_if(c.channels.begin(), c.channels.end(), [](const auto& ch) { return ch.type == "custom"; });
    };
    BOOST_TEST(count([](const auto& c) { return c.blocked; }) > 10);
    BOOST_TEST(count([](const auto& c) { return c.unsubscribed; }) > 30);
    BOOST_TEST(count([](const auto& c) { return c.is_admin; }) > 5);
    BOOST_TEST(count([&](const auto& c) { return customs(c) == 0; }) > 30);
    BOOST_TEST(count([&](const auto& c) { return customs(c) == 2; }) > 50);
    BOOST_TEST(count([](const auto& c) { return c.name.empty(); }) > 5);
    BOOST_TEST(count([](const auto& c) { return c.name.find(',') != std::string::npos; }) > 5);
    BOOST_TEST(count([](const auto& c) {
                   return std::any_of(c.channels.begin(), c.channels.end(),
                                      [](const auto& ch) { return ch.type == "internal"; });
               }) > 300);
    BOOST_TEST(count([](const auto& c) {
                   return std::any_of(c.channels.begin(), c.channels.end(),
                                      [](const auto& ch) { return ch.type != "internal" && ch.type != "custom"; });
               }) > 100);
    // Contact i is the same whatever the count, and the seed decides.
    const auto fewer = invent_dispatch::make_mock_contacts(10, 1);
    BOOST_TEST(fewer[9].name == contacts[9].name);
    BOOST_TEST(fewer[9].channels.size() == contacts[9].channels.size());
    const auto other = invent_dispatch::make_mock_contacts(10, 2);
    BOOST_TEST(!std::equal(fewer.begin(), fewer.end(), other.begin(),
                           [](const auto& a, const auto& b) { return a.name == b.name; }));
}

BOOST_AUTO_TEST_CASE(listing_filters_as_the_query_says) {
    mock_server server(listing_config(600));
    const auto contacts = invent_dispatch::make_mock_contacts(600, base_config().seed);
    test_client client(server);
    const auto ids_of = [&](const std::string& query) {
        const auto res = client.send(list_request(query + "&take=100"));
        BOOST_TEST_REQUIRE(res.result_int() == 200, res.body());
        std::vector<std::string> ids;
        const json_document page(res.body());
        for (const auto element : simdjson::dom::array(page.root)) ids.emplace_back(std::string_view(element["id"]));
        BOOST_TEST(ids.size() == std::min<std::size_t>(100, std::stoul(std::string(res["pagination-count"]))));
        return std::pair{ids, std::stoul(std::string(res["pagination-count"]))};
    };
    const auto expect = [&](const std::string& query, auto predicate) {
        std::vector<std::string> expected;
        for (const auto& c : contacts)
            if (predicate(c)) expected.push_back(c.id);
        const auto [ids, total] = ids_of(query);
        BOOST_TEST(total == expected.size(), query);
        expected.resize(std::min<std::size_t>(100, expected.size()));
        BOOST_TEST(ids == expected, query);
    };
    const auto in_segment = [](const std::string& segment) {
        return [segment](const invent_dispatch::mock_contact& c) {
            return std::find(c.segment_ids.begin(), c.segment_ids.end(), segment) != c.segment_ids.end();
        };
    };
    expect("?segment_id=seg_vip", in_segment("seg_vip"));
    expect("?status=UNSUBSCRIBED", [](const auto& c) { return c.unsubscribed; });
    expect("?status=BLOCKED&segment_id=seg_spring",
           [&](const auto& c) { return c.blocked && in_segment("seg_spring")(c); });
    expect("?status=SUBSCRIBED", [](const auto& c) { return !c.unsubscribed && !c.blocked; });
    expect("?name=SOUZA", [](const auto& c) { return c.name.find("Souza") != std::string::npos; });
    expect("?email=%40work.example.com", [](const auto& c) {
        return std::any_of(c.channels.begin(), c.channels.end(),
                           [](const auto& ch) { return ch.email.ends_with("@work.example.com"); });
    });
}

BOOST_AUTO_TEST_CASE(listing_refuses_take_over_100_and_bad_queries) {
    mock_server server(listing_config(10));
    test_client client(server);
    for (const auto& [query, message] :
         {std::pair{"?take=101", "take must be at most 100"},
          std::pair{"?page=0", "page must be a positive whole number"},
          std::pair{"?take=ten", "take must be a positive whole number"},
          std::pair{"?status=OPTED_OUT",
                    "status must be one of ALL, SUBSCRIBED, UNSUBSCRIBED, BLOCKED, AI_REPLIES_DISABLED"}}) {
        const auto res = client.send(list_request(query));
        BOOST_TEST(res.result_int() == 400, query);
        BOOST_TEST(message_of(res) == message, query);
    }
    BOOST_TEST(client.send(list_request("?take=100")).result_int() == 200);
    BOOST_TEST(client.send(list_request("", "wrong")).result_int() == 401);
    auto post = list_request("");
    post.method(http::verb::post);
    const auto refused = client.send(post);
    BOOST_TEST(refused.result_int() == 405);
    BOOST_TEST(refused[http::field::allow] == "GET");
}

BOOST_AUTO_TEST_CASE(listing_gets_the_fault_knobs) {
    {
        auto config = listing_config(10);
        config.error_rates = {{503, 1.0}};
        config.retry_after = "7";
        mock_server server(config);
        test_client client(server);
        const auto res = client.send(list_request("?take=100"));
        BOOST_TEST(res.result_int() == 503);
        BOOST_TEST(res[http::field::retry_after] == "7");
    }
    {
        auto config = listing_config(10);
        config.rate_limit = 1.0;
        mock_server server(config);
        test_client client(server);
        BOOST_TEST(client.send(list_request("")).result_int() == 200);
        const auto res = client.send(list_request(""));
        BOOST_TEST(res.result_int() == 429);
        BOOST_TEST(res[http::field::retry_after] == "1");
    }
    {
        auto config = listing_config(10);
        config.malformed_rate = 1.0;
        mock_server server(config);
        test_client client(server);
        const auto res = client.send(list_request("?take=100"));
        BOOST_TEST(res.result_int() == 200);
        simdjson::dom::parser parser;
        BOOST_TEST(parser.parse(res.body()).error() != simdjson::SUCCESS);
        BOOST_TEST(stat(server, "malformed") == 1u);
    }
    {
        auto config = listing_config(10);
        config.drop_before_response = 1.0;
        mock_server server(config);
        test_client client(server);
        client.send_raw(serialize(list_request("")));
        BOOST_TEST(client.closed_by_server());
        BOOST_TEST(stat(server, "dropped_before_response") == 1u);
    }
    {
        auto config = listing_config(10);
        config.latency = std::chrono::milliseconds(300);
        mock_server server(config);
        test_client client(server);
        const auto started = std::chrono::steady_clock::now();
        BOOST_TEST(client.send(list_request("")).result_int() == 200);
        BOOST_TEST((std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(300)));
    }
}

BOOST_AUTO_TEST_SUITE_END()
