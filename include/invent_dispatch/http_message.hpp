#pragma once
// What goes over a connection and what comes back, as plain views: the
// request a caller hands to connection::send, and the raw values of the
// response headers the program acts on.
#include <string>
#include <string_view>

#include "invent_dispatch/chat_request.hpp"

namespace invent_dispatch {

// One request. The connection adds Host, Authorization, Accept,
// Accept-Encoding: identity, User-Agent, and Content-Type/Content-Length when
// there is a body (or the method is one that carries one).
struct http_request {
    std::string_view method;   // "POST", "GET"
    std::string_view target;   // origin-form, percent-encoded, base path included
    std::string_view body;   // may be empty
    std::string_view idempotency_key;   // empty: no Idempotency-Key header
};

// The chat creation request for a row; target is the caller's storage for
// the path (reused from row to row).
http_request chat_creation(const chat_request& row, std::string_view base_path, std::string& target);

// The raw values of the headers we use (empty when absent; a header sent
// more than once is joined with ", ", as RFC 9110 §5.3 allows for lists).
struct response_headers {
    std::string_view retry_after;
    std::string_view content_type;
    std::string_view content_encoding;
    std::string_view pagination_count;   // pagination-count
    std::string_view ratelimit;   // RateLimit
    std::string_view ratelimit_policy;   // RateLimit-Policy
    std::string_view x_ratelimit_limit;   // X-RateLimit-Limit
    std::string_view x_ratelimit_remaining;   // X-RateLimit-Remaining
    std::string_view x_ratelimit_reset;   // X-RateLimit-Reset
};

}   // namespace invent_dispatch
