#include "invent_dispatch/errors.hpp"

#include <string>

namespace invent_dispatch {
namespace {

class dispatch_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "invent_dispatch"; }
    std::string message(int value) const override {
        switch (static_cast<dispatch_errc>(value)) {
        case dispatch_errc::connect_failed: return "could not connect";
        case dispatch_errc::tls_handshake_failed: return "TLS handshake failed";
        case dispatch_errc::tls_verify_failed: return "server certificate rejected";
        case dispatch_errc::stale_connection: return "keep-alive connection closed by the server";
        case dispatch_errc::connect_timeout: return "timed out connecting";
        case dispatch_errc::response_timeout: return "request sent, no answer in time";
        case dispatch_errc::connection_lost: return "request sent, connection lost before the answer";
        case dispatch_errc::bad_http_response: return "the answer was not valid HTTP";
        case dispatch_errc::not_a_chat: return "a 2xx answer that is not a Chat with an id";
        case dispatch_errc::proxy_auth_required: return "the proxy refused its credentials";
        case dispatch_errc::proxy_refused: return "the proxy refused the tunnel";
        case dispatch_errc::resolve_failed: return "the host name did not resolve";
        }
        return "unknown dispatch error";
    }
};

}   // namespace

const boost::system::error_category& dispatch_category() noexcept {
    static const dispatch_category_impl category;
    return category;
}

}   // namespace invent_dispatch
