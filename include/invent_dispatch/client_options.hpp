#pragma once
// The HTTP client's params, with their defaults: where the API is, the token,
// trust, the proxy and the per-attempt timeout. A leaf: the config stage
// fills one inside dispatch_config, the client takes it whole.
#include <chrono>
#include <optional>
#include <string>

#include "invent_dispatch/endpoint.hpp"
#include "invent_dispatch/proxy.hpp"

namespace invent_dispatch {

struct client_options {
    api_endpoint endpoint;   // from the base URL
    std::string token;   // INVENT_API_TOKEN or --token-file, never a flag
    std::optional<std::string> ca_file;   // a CA to trust besides the system store
    std::string extra_ca_pem;   // the same, in memory (the demo's generated CA)
    bool insecure = false;   // loopback only (checked by config)
    std::optional<proxy_endpoint> proxy;   // tunnel through it with CONNECT; none when NO_PROXY names the host
    std::chrono::milliseconds timeout = std::chrono::seconds(30);   // per attempt
};

}   // namespace invent_dispatch
