#include <algorithm>
#include <string_view>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <fmt/format.h>

#include <charconv>

#include "invent_dispatch/config.hpp"

namespace invent_dispatch {
namespace {

bool is_loopback(const boost::urls::url_view& url) {
    switch (url.host_type()) {
    case boost::urls::host_type::ipv4: return url.host_ipv4_address().is_loopback();
    case boost::urls::host_type::ipv6: return url.host_ipv6_address().is_loopback();
    case boost::urls::host_type::name: {
        std::string name = url.host_name();
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return name == "localhost";
    }
    default: return false;
    }
}

// The decoded host goes to getaddrinfo, SNI and the certificate's name check
// as a C string: a NUL would cut it (switching the name check off), and no
// real host name holds a control character, a space or a '%'.
bool is_unusable_host(std::string_view host) {
    return std::any_of(host.begin(), host.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte <= 0x20 || byte == 0x7F || c == '%';
    });
}

}   // namespace

api_endpoint parse_endpoint(const std::string& base_url) {
    const auto parsed = boost::urls::parse_absolute_uri(base_url);
    if (!parsed) throw usage_error(fmt::format("base URL '{}' is not an absolute URL", base_url));
    const auto& url = *parsed;

    api_endpoint endpoint;
    if (url.scheme_id() == boost::urls::scheme::https)
        endpoint.tls = true;
    else if (url.scheme_id() == boost::urls::scheme::http)
        endpoint.tls = false;
    else
        throw usage_error(fmt::format("base URL '{}': only https:// (or http:// on loopback) is supported", base_url));
    // Credentials in the URL would end up in logs and process listings.
    if (url.has_userinfo())
        throw usage_error(
            "base URL must not hold a user or password; pass the token in INVENT_API_TOKEN or --token-file");
    if (url.has_query() || url.has_fragment())
        throw usage_error(fmt::format("base URL '{}' must not have a query or fragment", base_url));
    if (url.host_type() == boost::urls::host_type::ipvfuture || url.encoded_host().empty())
        throw usage_error(fmt::format("base URL '{}' has no usable host", base_url));

    endpoint.host = url.host_address();
    if (is_unusable_host(endpoint.host))
        throw usage_error(
            fmt::format("base URL '{}': the host holds a control character, a space or a '%' once decoded", base_url));
    if (url.has_port()) {
        // From the text: Boost.URL's port_number() is 16 bits, so 99999 would wrap to 34463.
        const auto port = url.port();
        unsigned long number = 0;
        const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
        if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || number < 1 || number > 65535)
            throw usage_error(fmt::format("base URL '{}': the port must be 1-65535", base_url));
        endpoint.port = std::to_string(number);
    } else {
        endpoint.port = endpoint.tls ? "443" : "80";
    }
    // Kept encoded: it is pasted in front of the encoded request path as is.
    endpoint.base_path = url.encoded_path();
    while (!endpoint.base_path.empty() && endpoint.base_path.back() == '/') endpoint.base_path.pop_back();
    endpoint.loopback = is_loopback(url);
    return endpoint;
}

bool is_invent_host(const api_endpoint& endpoint) {
    std::string host = endpoint.host;
    for (auto& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    while (!host.empty() && host.back() == '.') host.pop_back();   // a fully qualified name
    return host == "useinvent.com" || host.ends_with(".useinvent.com");
}

}   // namespace invent_dispatch
