#pragma once
// The HTTP proxy the API is reached through (SPEC §6), decided and spoken
// without sockets: the proxy URL, whether NO_PROXY exempts a host, the
// CONNECT request, and the proxy's reply to it. The connection makes the
// tunnel with these, then TLS to the API through it.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace invent_dispatch {

struct proxy_endpoint {
    std::string host;   // without brackets for IPv6
    std::string port;   // "1080" when the URL gives none, as curl
    std::string authorization;   // "Basic ..." from the URL's user and password; empty without
    std::string display;   // "http://host:port", never the credentials: for logs and errors
};

// "http://user:pass@proxy:3128", "proxy:3128" (http:// assumed, as curl).
// Throws std::invalid_argument saying what is wrong (never the credentials):
// another scheme (https://, socks5://), no host, a path, a bad port.
proxy_endpoint parse_proxy_url(std::string_view url);

// NO_PROXY as curl reads it: entries separated by commas or spaces; "*"
// matches every host; a name matches itself and its subdomains (with or
// without a leading dot: "example.com" and ".example.com" both match
// "api.example.com"), case-insensitively; an IP address matches itself and
// an ADDRESS/BITS entry the addresses in that range.
bool no_proxy_matches(std::string_view no_proxy, std::string_view host);

// "CONNECT host:port HTTP/1.1" with Host and, when the proxy has
// credentials, Proxy-Authorization; the IPv6 host in brackets.
std::string connect_request(const proxy_endpoint& proxy, std::string_view host, std::string_view port);

// The proxy's reply to CONNECT, read from the start of what it sent.
struct connect_reply {
    enum class state {
        incomplete,   // the head has not all arrived
        established,   // 2xx: what follows head_size is the server's
        refused,   // another status: the proxy will not make the tunnel
        malformed,   // not an HTTP/1.x status line, or a head over max_head_size
    } result = state::incomplete;
    int status = 0;
    std::string reason;   // the status line's reason phrase
    std::size_t head_size = 0;   // bytes up to and including the blank line
};
inline constexpr std::size_t max_connect_head_size = 16 * 1024;
connect_reply parse_connect_reply(std::string_view bytes);

}   // namespace invent_dispatch
