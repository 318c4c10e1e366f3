#pragma once
// The connection handle one worker coroutine sends through, to a
// connection_pool's server (the sans-io response_reader reads the answers).
// It knows how to send an http_request and how an attempt failed; it knows
// nothing of CSV, journals or retries.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <simdjson.h>
#include <string>
#include <string_view>

#include "invent_dispatch/chat_request.hpp"
#include "invent_dispatch/connection_pool.hpp"
#include "invent_dispatch/failure_classifier.hpp"
#include "invent_dispatch/http_message.hpp"

namespace invent_dispatch {

// One attempt's result. The views are valid until the next send on the same
// connection.
struct http_answer {
    boost::system::error_code ec;   // dispatch_errc; clear when an HTTP answer came
    attempt_stage stage = attempt_stage::connect;   // how far it got
    int status = 0;   // kept when a status line came, even if the rest failed
    // Readable SIMDJSON_PADDING bytes past its end, so it is parsed in place.
    simdjson::padded_string_view body;
    response_headers headers;   // the raw values of the headers we use
    std::string_view detail;   // with ec: what failed, in words (no secrets)
    bool reused_connection = false;
    std::chrono::steady_clock::duration elapsed{};   // write to last byte read
};

// A worker's way to the pool. Each send takes the most recently used idle
// connection (checked first: one the server has closed, with a FIN or a TLS
// close_notify, is dropped, never written to) or makes one, and puts it back
// after the answer unless it must close (Connection: close, bytes after the
// answer, an error).
class connection {
public:
    connection(boost::asio::any_io_executor executor, const connection_pool& pool);
    ~connection();
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    // Makes a spare connection for the pool unless one is idle there or on
    // its way: a clear answer then, ec and detail when it could not be made.
    // Call it before waiting for a rate grant, so that a handshake does not
    // delay the request past its slot.
    boost::asio::awaitable<http_answer> open();
    bool is_open() const noexcept;   // a connection is idle in the pool or on its way (unchecked: send checks)
    // This handle is making a connection (lookup, connect, handshake): no byte
    // of a request has left it yet.
    bool connecting() const noexcept;
    // Takes a connection (see above), writes the request, reads the answer.
    boost::asio::awaitable<http_answer> send(const http_request& request);
    // Cancels what is under way (the current send completes with an error);
    // the last handle closed also closes the pool's idle connections.
    void close() noexcept;
    // Kept-alive connections found closed (or past the server's Keep-Alive
    // timeout) before a request was written on them.
    std::uint64_t stale_reconnects() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}   // namespace invent_dispatch
