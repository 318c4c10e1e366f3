#include "invent_dispatch/proxy.hpp"
#include "invent_dispatch/version.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>
#include <vector>

namespace invent_dispatch {
namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::string base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::string bracketed(std::string_view host) {
    return host.find(':') != std::string_view::npos ? "[" + std::string(host) + "]" : std::string(host);
}

std::vector<unsigned char> bytes_of(const boost::asio::ip::address& address) {
    if (address.is_v4()) {
        const auto bytes = address.to_v4().to_bytes();
        return {bytes.begin(), bytes.end()};
    }
    const auto bytes = address.to_v6().to_bytes();
    return {bytes.begin(), bytes.end()};
}

// "10.0.0.0/8" holds 10.1.2.3; "::1" only itself. False when the entry is not an address.
bool address_matches(std::string_view entry, const boost::asio::ip::address& host) {
    const auto slash = entry.find('/');
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(std::string(entry.substr(0, slash)), ec);
    if (ec || address.is_v4() != host.is_v4()) return false;
    if (slash == std::string_view::npos) return address == host;
    const auto network = bytes_of(address);
    const auto candidate = bytes_of(host);
    unsigned bits = 0;
    const auto text = entry.substr(slash + 1);
    const auto [end, parse_ec] = std::from_chars(text.data(), text.data() + text.size(), bits);
    if (parse_ec != std::errc{} || end != text.data() + text.size() || bits > network.size() * 8) return false;
    for (std::size_t i = 0; bits > 0; ++i) {
        const unsigned take = std::min(bits, 8u);
        const auto mask = static_cast<unsigned char>(0xFF << (8 - take));
        if ((network[i] & mask) != (candidate[i] & mask)) return false;
        bits -= take;
    }
    return true;
}

}   // namespace

proxy_endpoint parse_proxy_url(std::string_view url) {
    // curl takes "host:port" as an http:// proxy.
    const std::string text =
        url.find("://") == std::string_view::npos ? "http://" + std::string(url) : std::string(url);
    const auto parsed = boost::urls::parse_absolute_uri(text);
    if (!parsed) throw std::invalid_argument("not a URL");
    const auto& u = *parsed;
    if (u.scheme_id() != boost::urls::scheme::http)
        throw std::invalid_argument("'" + std::string(u.scheme()) +
                                    "://' proxies are not supported (only http://, reached with CONNECT)");
    if (u.encoded_host().empty() || u.host_type() == boost::urls::host_type::ipvfuture)
        throw std::invalid_argument("no proxy host");
    if (!u.encoded_path().empty() && u.encoded_path() != "/") throw std::invalid_argument("a proxy URL has no path");
    if (u.has_query() || u.has_fragment()) throw std::invalid_argument("a proxy URL has no query or fragment");

    proxy_endpoint proxy;
    proxy.host = u.host_address();
    if (u.has_port()) {
        if (u.port().empty() || u.port_number() == 0) throw std::invalid_argument("bad proxy port");
        proxy.port = u.port();
    } else {
        proxy.port = "1080";
    }
    if (u.has_userinfo())
        proxy.authorization = "Basic " + base64(std::string(u.user()) + ":" + std::string(u.password()));
    proxy.display = "http://" + bracketed(proxy.host) + ":" + proxy.port;
    return proxy;
}

bool no_proxy_matches(std::string_view no_proxy, std::string_view host) {
    if (!host.empty() && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (!host.empty() && host.back() == '.') host.remove_suffix(1);
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(std::string(host), ec);
    const bool host_is_address = !ec;

    std::size_t at = 0;
    while (at < no_proxy.size()) {
        const auto end = no_proxy.find_first_of(", \t", at);
        auto entry = no_proxy.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
        at = end == std::string_view::npos ? no_proxy.size() : end + 1;
        if (entry.empty()) continue;
        if (entry == "*") return true;
        if (host_is_address) {
            if (!entry.empty() && entry.front() == '[') {   // "[::1]"
                const auto close = entry.find(']');
                entry = entry.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1);
            }
            if (address_matches(entry, address)) return true;
            continue;
        }
        if (entry.front() == '.') entry.remove_prefix(1);
        if (!entry.empty() && entry.back() == '.') entry.remove_suffix(1);
        if (entry.empty()) continue;
        if (iequals(host, entry)) return true;
        if (host.size() > entry.size() && host[host.size() - entry.size() - 1] == '.' &&
            iequals(host.substr(host.size() - entry.size()), entry))
            return true;
    }
    return false;
}

std::string connect_request(const proxy_endpoint& proxy, std::string_view host, std::string_view port) {
    const auto authority = bracketed(host) + ":" + std::string(port);
    std::string request = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n";
    if (!proxy.authorization.empty()) request += "Proxy-Authorization: " + proxy.authorization + "\r\n";
    request += "User-Agent: invent-dispatch/" INVENT_DISPATCH_VERSION "\r\n\r\n";
    return request;
}

connect_reply parse_connect_reply(std::string_view bytes) {
    connect_reply reply;
    const auto head_end = bytes.substr(0, max_connect_head_size).find("\r\n\r\n");
    if (head_end == std::string_view::npos) {
        if (bytes.size() >= max_connect_head_size) reply.result = connect_reply::state::malformed;
        return reply;
    }
    // "HTTP/1.1 200 Connection established"
    const auto line = bytes.substr(0, bytes.find("\r\n"));
    const auto digit = [&](std::size_t i) { return std::isdigit(static_cast<unsigned char>(line[i])) != 0; };
    if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || (line[7] != '0' && line[7] != '1') || line[8] != ' ' ||
        !digit(9) || !digit(10) || !digit(11) || (line.size() > 12 && line[12] != ' ') || line[9] == '0') {
        reply.result = connect_reply::state::malformed;
        return reply;
    }
    reply.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    if (line.size() > 13) reply.reason = std::string(line.substr(13));
    reply.head_size = head_end + 4;
    reply.result = reply.status / 100 == 2 ? connect_reply::state::established : connect_reply::state::refused;
    return reply;
}

}   // namespace invent_dispatch
