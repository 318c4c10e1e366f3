#pragma once
// The failure classifier (pure): how far an attempt got, what failed and the
// status that came, in; what kind of outcome that is, out. The scheduler acts
// on the class (backoff, pause, breakers); nothing else decides it.
#include <boost/system/error_code.hpp>
#include <cstdint>

namespace invent_dispatch {

// How far an attempt got before it ended.
enum class attempt_stage : std::uint8_t {
    connect,   // lookup, connect, TLS handshake, or a kept-alive connection found closed
    write,   // writing the request; not all of it left
    read,   // the request left; waiting for the answer
    answered,   // a status line came (the rest may still have been unusable)
};

enum class attempt_class : std::uint8_t {
    success,   // a 2xx Chat
    retry_before_send,   // nothing reached the server: send again after a backoff
    resend_stale,   // a kept-alive connection the server had closed: send again at once
    ambiguous,   // sent, no usable answer: the server may have acted on it
    accepted_unusable,   // a 2xx that is not a Chat (or whose framing failed): unknown, never sent again
    retry_status,   // 408, 429, 500, 502, 503, 504
    row_failure,   // any other answer: the row failed with the server's words
    auth_refused,   // 401/403, or the proxy refusing its credentials: several in a row stop the batch
    certificate,   // the server's certificate failed verification: stops the batch at once
};

// The transport failure a before-send class came from, for --fail-fast: the
// same one on N attempts in a row stops the batch.
enum class transport_failure : std::uint8_t { none, resolve, connect, connect_timeout, tls_handshake, proxy };

struct classified_attempt {
    attempt_class what = attempt_class::success;
    transport_failure transport = transport_failure::none;
};

// ec: a dispatch_errc, or clear; status: 0 unless a status line came (the
// API's: a proxy's refusal of CONNECT is an ec, proxy_refused or
// proxy_auth_required).
// not_a_chat with a 2xx status is accepted_unusable; any answer that came
// (even with bad framing after it) is judged by its status.
classified_attempt classify_attempt(attempt_stage stage, boost::system::error_code ec, int status) noexcept;

}   // namespace invent_dispatch
