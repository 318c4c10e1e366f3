#include "invent_dispatch/failure_classifier.hpp"

#include "invent_dispatch/errors.hpp"

namespace invent_dispatch {
namespace {

attempt_class by_status(int status) noexcept {
    if (status == 401 || status == 403) return attempt_class::auth_refused;
    switch (status) {
    case 408:
    case 429:
    case 500:
    case 502:
    case 503:
    case 504: return attempt_class::retry_status;
    default: return attempt_class::row_failure;
    }
}

transport_failure transport_of(dispatch_errc e) noexcept {
    switch (e) {
    case dispatch_errc::resolve_failed: return transport_failure::resolve;
    case dispatch_errc::connect_failed: return transport_failure::connect;
    case dispatch_errc::connect_timeout: return transport_failure::connect_timeout;
    case dispatch_errc::tls_handshake_failed: return transport_failure::tls_handshake;
    case dispatch_errc::proxy_refused: return transport_failure::proxy;
    default: return transport_failure::none;
    }
}

}   // namespace

classified_attempt classify_attempt(attempt_stage stage, boost::system::error_code ec, int status) noexcept {
    const bool ours = ec.category() == dispatch_category();
    const auto e = static_cast<dispatch_errc>(ours ? ec.value() : 0);
    if (ours && e == dispatch_errc::tls_verify_failed) return {attempt_class::certificate};
    // The proxy's credentials do not fix themselves, and wrong ones fail
    // every row: counted like a refused token. Nothing reached the API.
    if (ours && e == dispatch_errc::proxy_auth_required) return {attempt_class::auth_refused};

    if (stage == attempt_stage::answered && status != 0) {
        const bool accepted = status >= 200 && status < 300;
        // The server took the request: a body or framing we cannot use does
        // not mean it created nothing.
        if (accepted) return {ec ? attempt_class::accepted_unusable : attempt_class::success};
        return {by_status(status)};
    }
    if (!ec) return {attempt_class::ambiguous};   // no status and no error: not a state a connection reports
    if (ours && e == dispatch_errc::stale_connection) return {attempt_class::resend_stale};
    if (stage == attempt_stage::connect || stage == attempt_stage::write) {
        // Not all of the request left: the server cannot have acted on it.
        const bool transport = ours && stage == attempt_stage::connect;
        return {attempt_class::retry_before_send, transport ? transport_of(e) : transport_failure::none};
    }
    return {attempt_class::ambiguous};
}

}   // namespace invent_dispatch
