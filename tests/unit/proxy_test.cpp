#include <boost/test/unit_test.hpp>

#include <stdexcept>

#include "invent_dispatch/proxy.hpp"
#include "invent_dispatch/version.hpp"

using namespace invent_dispatch;

namespace {

std::string refusal(std::string_view url) {
    try {
        parse_proxy_url(url);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "";
}

}   // namespace

BOOST_AUTO_TEST_SUITE(proxy)

BOOST_AUTO_TEST_CASE(proxy_url_host_port_and_credentials) {
    const auto proxy = parse_proxy_url("http://alice:s%3Acret@proxy.corp:3128");
    BOOST_TEST(proxy.host == "proxy.corp");
    BOOST_TEST(proxy.port == "3128");
    // base64("alice:s:cret"): the password percent-decoded, as curl sends it.
    BOOST_TEST(proxy.authorization == "Basic YWxpY2U6czpjcmV0");
    BOOST_TEST(proxy.display == "http://proxy.corp:3128");

    const auto bare = parse_proxy_url("10.0.0.1:8080");   // curl's http:// when no scheme
    BOOST_TEST(bare.host == "10.0.0.1");
    BOOST_TEST(bare.port == "8080");
    BOOST_TEST(bare.authorization.empty());
    BOOST_TEST(parse_proxy_url("http://proxy.corp/").port == "1080");   // curl's default port
    const auto v6 = parse_proxy_url("http://[::1]:3128");
    BOOST_TEST(v6.host == "::1");
    BOOST_TEST(v6.display == "http://[::1]:3128");
    BOOST_TEST(parse_proxy_url("http://bob@proxy:1").authorization == "Basic Ym9iOg==");   // "bob:"
}

BOOST_AUTO_TEST_CASE(proxy_url_refusals_never_show_the_credentials) {
    BOOST_TEST(refusal("https://user:pw@proxy:443").find("not supported") != std::string::npos);
    BOOST_TEST(refusal("socks5://proxy:1080").find("not supported") != std::string::npos);
    BOOST_TEST(refusal("http://user:pw@proxy:3128/path") == "a proxy URL has no path");
    BOOST_TEST(refusal("http://proxy:0") == "bad proxy port");
    BOOST_TEST(refusal("http://:3128") == "no proxy host");
    for (const auto* url : {"https://user:pw@proxy:443", "http://user:pw@proxy:3128/path", "http://user:pw@proxy:0"})
        BOOST_TEST(refusal(url).find("pw") == std::string::npos, url);
}

BOOST_AUTO_TEST_CASE(no_proxy_names_and_domain_suffixes) {
    BOOST_TEST(no_proxy_matches("*", "api.useinvent.com"));
    BOOST_TEST(no_proxy_matches("useinvent.com", "useinvent.com"));
    BOOST_TEST(no_proxy_matches("useinvent.com", "api.useinvent.com"));
    BOOST_TEST(no_proxy_matches(".useinvent.com", "api.useinvent.com"));
    BOOST_TEST(no_proxy_matches("USEINVENT.com", "Api.UseInvent.COM"));
    BOOST_TEST(no_proxy_matches("localhost, internal.corp useinvent.com", "api.useinvent.com"));
    BOOST_TEST(no_proxy_matches("useinvent.com", "api.useinvent.com."));   // a fully qualified name
    BOOST_TEST(!no_proxy_matches("useinvent.com", "notuseinvent.com"));   // a suffix, not a domain
    BOOST_TEST(!no_proxy_matches("api.useinvent.com", "useinvent.com"));
    BOOST_TEST(!no_proxy_matches("", "api.useinvent.com"));
    BOOST_TEST(!no_proxy_matches(",,", "api.useinvent.com"));
    BOOST_TEST(!no_proxy_matches("*.useinvent.com", "api.useinvent.com"));   // curl takes no wildcards but "*"
    BOOST_TEST(!no_proxy_matches("example.com", "127.0.0.1"));
}

BOOST_AUTO_TEST_CASE(no_proxy_addresses_and_ranges) {
    BOOST_TEST(no_proxy_matches("127.0.0.1", "127.0.0.1"));
    BOOST_TEST(!no_proxy_matches("127.0.0.1", "127.0.0.2"));
    BOOST_TEST(no_proxy_matches("10.0.0.0/8", "10.200.3.4"));
    BOOST_TEST(!no_proxy_matches("10.0.0.0/8", "11.0.0.1"));
    BOOST_TEST(no_proxy_matches("192.168.1.0/23", "192.168.0.77"));
    BOOST_TEST(!no_proxy_matches("192.168.1.0/24", "192.168.0.77"));
    BOOST_TEST(no_proxy_matches("::1", "::1"));
    BOOST_TEST(no_proxy_matches("[::1]", "[::1]"));
    BOOST_TEST(no_proxy_matches("fd00::/8", "fd12:3456::1"));
    BOOST_TEST(!no_proxy_matches("127.0.0.1", "::1"));
    BOOST_TEST(!no_proxy_matches("10.0.0.0/33", "10.0.0.1"));   // not a range
    BOOST_TEST(!no_proxy_matches("127.0.0.1", "127.0.0.1.example.com"));
}

BOOST_AUTO_TEST_CASE(connect_request_bytes) {
    auto proxy = parse_proxy_url("http://proxy:3128");
    BOOST_TEST(connect_request(proxy, "api.useinvent.com", "443") ==
               "CONNECT api.useinvent.com:443 HTTP/1.1\r\nHost: api.useinvent.com:443\r\n"
               "User-Agent: invent-dispatch/" INVENT_DISPATCH_VERSION "\r\n\r\n");
    proxy = parse_proxy_url("http://u:p@proxy:3128");
    BOOST_TEST(connect_request(proxy, "::1", "8443") ==
               "CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\nProxy-Authorization: Basic dTpw\r\n"
               "User-Agent: invent-dispatch/" INVENT_DISPATCH_VERSION "\r\n\r\n");
}

BOOST_AUTO_TEST_CASE(connect_reply_established_after_the_whole_head) {
    const std::string head = "HTTP/1.1 200 Connection established\r\nProxy-Agent: tinyproxy/1.11.1\r\n\r\n";
    for (std::size_t n = 0; n < head.size(); ++n)
        BOOST_TEST(
            (parse_connect_reply(std::string_view(head).substr(0, n)).result == connect_reply::state::incomplete), n);
    const auto reply = parse_connect_reply(head + "\x16\x03\x03");   // the server's bytes follow
    BOOST_TEST((reply.result == connect_reply::state::established));
    BOOST_TEST(reply.status == 200);
    BOOST_TEST(reply.reason == "Connection established");
    BOOST_TEST(reply.head_size == head.size());
    BOOST_TEST((parse_connect_reply("HTTP/1.0 200\r\n\r\n").result == connect_reply::state::established));
}

BOOST_AUTO_TEST_CASE(connect_reply_refused_and_malformed) {
    const auto denied = parse_connect_reply(
        "HTTP/1.0 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"tinyproxy\"\r\n"
        "Content-Length: 5\r\n\r\nnope.");
    BOOST_TEST((denied.result == connect_reply::state::refused));
    BOOST_TEST(denied.status == 407);
    BOOST_TEST(denied.reason == "Proxy Authentication Required");
    BOOST_TEST((parse_connect_reply("HTTP/1.1 403 Access violation\r\n\r\n").result == connect_reply::state::refused));
    BOOST_TEST((parse_connect_reply("HTTP/1.1 502 Bad Gateway\r\n\r\n").status == 502));
    BOOST_TEST((parse_connect_reply("HTTP/1.1 101 Switching\r\n\r\n").result == connect_reply::state::refused));

    for (const char* bytes :
         {"SSH-2.0-OpenSSH\r\n\r\n", "HTTP/2 200\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n",
          "HTTP/1.1 abc OK\r\n\r\n", "HTTP/1.1 099 x\r\n\r\n", "HTTP/1.1  200 OK\r\n\r\n", "\r\n\r\n"})
        BOOST_TEST((parse_connect_reply(bytes).result == connect_reply::state::malformed), bytes);
    // A head that never ends is cut off at the limit.
    const std::string endless = "HTTP/1.1 200 OK\r\nX: " + std::string(max_connect_head_size, 'a');
    BOOST_TEST((parse_connect_reply(endless).result == connect_reply::state::malformed));
}

BOOST_AUTO_TEST_SUITE_END()
