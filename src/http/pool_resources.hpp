#pragma once
// What the connections of one connection_pool share (private to src/http):
// the options, the TLS context, the session kept for resumption, the server's
// addresses looked up once, and the idle connections.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <openssl/ssl.h>

#include "invent_dispatch/connection.hpp"

namespace invent_dispatch {

struct link;   // one socket and its TLS state (connection.cpp)
struct link_deleter {
    void operator()(link* l) const noexcept;
};
using link_ptr = std::unique_ptr<link, link_deleter>;

struct connection_pool::resources {
    client_options options;
    std::optional<boost::asio::ssl::context> tls;
    std::string fixed_headers;   // from " HTTP/1.1" to User-Agent, CRLF-terminated
    SSL_SESSION* session = nullptr;   // the last resumable session, for reconnects

    explicit resources(client_options opts);
    ~resources();
    resources(const resources&) = delete;
    resources& operator=(const resources&) = delete;

    // --- the pool: idle connections, the most recently used last ---------
    // Taken most-recently-used first (SPEC §5): under a rate limit a few stay
    // warm and the rest close by idling.
    std::vector<link_ptr> idle;
    unsigned open_handles = 0;   // connection handles not yet closed
    unsigned opening = 0;   // spares being opened by connection::open
    void close_idle() noexcept;

    // --- session probe -------------------------------------------------
    // The first TLS connection is the session probe: until the server gives
    // it a session (or its first answer comes, or max_session_wait passes)
    // other connections wait instead of making full handshakes of their own.
    // Verifying the server's certificate chain is most of a handshake's cost
    // (OpenSSL 3.0: ~4 of ~5.5 M instructions), and a resumed handshake skips
    // it, so hundreds of connections come up several times faster.
    static constexpr std::chrono::milliseconds max_session_wait{250};
    enum class probe_state { not_started, in_flight, over } probe = probe_state::not_started;
    std::optional<boost::asio::steady_timer> session_ready;   // fires at the bound; cancelled when the probe ends

    // True when the caller is to be the session probe (and must call end_probe).
    bool start_probe(const boost::asio::any_io_executor& executor);
    void end_probe();
    boost::asio::awaitable<void> wait_for_probe();
    // OpenSSL's new-session callback: the server's ticket (TLS 1.3, read with
    // the first answer or just before it) or session (TLS 1.2, in the
    // handshake) ends the probe at once. True when the session was taken.
    bool keep_session(SSL_SESSION* fresh);

    // --- addresses (the API's, or the proxy's), looked up once for the pool (single-flight)
    // A thousand connections opening at once would otherwise queue a
    // thousand lookups (tens of ms before the first request). Looked up again
    // after address_ttl, or after a connect to them failed. A waiter gives up
    // when `give_up` is emitted (its watchdog, the batch's stop); the lookup
    // goes on by itself.
    static constexpr std::chrono::seconds address_ttl{60};
    boost::asio::awaitable<boost::system::error_code> addresses(boost::asio::cancellation_slot give_up,
                                                                boost::asio::ip::tcp::resolver::results_type& out);
    void forget_addresses() noexcept { lookup.valid_until = {}; }
    void lookup_ended(const boost::system::error_code& ec, boost::asio::ip::tcp::resolver::results_type results);
    // What a lookup's thread shares with the pool: it posts its answer only
    // while the pool is there.
    struct lookup_thread {
        std::mutex mutex;
        resources* pool = nullptr;   // null once the pool is gone
    };
    struct {
        boost::asio::ip::tcp::resolver::results_type results;
        boost::system::error_code error;
        std::chrono::steady_clock::time_point valid_until{};
        bool in_flight = false;
        std::uint64_t finished = 0;   // lookups ended, to tell an answer from a waiter giving up
        std::optional<boost::asio::steady_timer> done;   // cancelled when the lookup in flight ends
        std::shared_ptr<lookup_thread> thread;   // of the lookup in flight, or the last one
    } lookup;
};

}   // namespace invent_dispatch
