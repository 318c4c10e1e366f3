#pragma once
// Where the API is: parsed from the base URL with Boost.URL. A leaf: the HTTP
// client takes it, the config stage fills it.
#include <string>

namespace invent_dispatch {

struct api_endpoint {
    bool tls = true;
    std::string host;   // without brackets for IPv6
    std::string port;   // "443" by default for https
    std::string base_path;   // "" or "/v1" (no trailing slash)
    bool loopback = false;   // 127.0.0.0/8, ::1, localhost
};

api_endpoint parse_endpoint(const std::string& base_url);   // throws usage_error

// Whether the base URL's host is Invent's API (api.useinvent.com or another
// host under useinvent.com).
bool is_invent_host(const api_endpoint& endpoint);

}   // namespace invent_dispatch
