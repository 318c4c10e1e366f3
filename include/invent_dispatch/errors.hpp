#pragma once
// The failures every stage may name: what kind of failure an attempt met (an
// error code; the server's own words travel separately), and the two setup
// failures that end a command before anything is sent (exceptions).
#include <boost/system/error_code.hpp>
#include <stdexcept>
#include <type_traits>

namespace invent_dispatch {

// Bad flags, config or environment: exit 2, nothing sent.
class usage_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A fatal input problem (unreadable file, bad header, unknown format): the
// message names the file and, where there is one, the line.
class input_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class dispatch_errc {
    connect_failed = 1,   // resolve/connect failed: nothing was sent
    tls_handshake_failed,   // TLS failed before the request was sent
    tls_verify_failed,   // peer certificate or host name rejected
    stale_connection,   // a reused keep-alive connection died before any response byte
    connect_timeout,   // connect or handshake timed out: nothing was sent
    response_timeout,   // request sent, no answer in time: ambiguous
    connection_lost,   // request sent, connection reset before the answer: ambiguous
    bad_http_response,   // the server's bytes were not HTTP
    not_a_chat,   // a 2xx whose body is not a Chat with an id
    proxy_auth_required,   // the proxy answered CONNECT with 407 (or 401): nothing was sent
    proxy_refused,   // the proxy refused CONNECT (403, 502...) or did not speak HTTP: nothing was sent
    resolve_failed,   // the host name did not resolve: nothing was sent
};

const boost::system::error_category& dispatch_category() noexcept;

inline boost::system::error_code make_error_code(dispatch_errc e) noexcept {
    return {static_cast<int>(e), dispatch_category()};
}

}   // namespace invent_dispatch

template <>
struct boost::system::is_error_code_enum<invent_dispatch::dispatch_errc> : std::true_type {};
