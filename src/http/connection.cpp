// The transport: one socket (plain, or TLS over our BIO), its liveness check
// before reuse, the exchange of one request and its answer; and the
// connection handle that takes sockets from the pool most-recently-used first.
#include "invent_dispatch/connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <charconv>
#include <mutex>
#include <poll.h>
#include <utility>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "invent_dispatch/errors.hpp"
#include "invent_dispatch/proxy.hpp"
#include "invent_dispatch/response_reader.hpp"
#include "pool_resources.hpp"
#include "tls_transport.hpp"

namespace invent_dispatch {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);

bool is_ip_literal(const std::string& host) {
    boost::system::error_code ec;
    net::ip::make_address(host, ec);
    return !ec;
}

bool is_timeout(const boost::system::error_code& ec) {
    return ec == net::error::timed_out;
}

// Held by the connection that probes for the TLS session: ended by the
// session's arrival, its first answer, a failure, or the connection's end.
struct probe_role {
    connection_pool::resources* pool = nullptr;
    void end() noexcept {
        if (pool != nullptr) std::exchange(pool, nullptr)->end_probe();
    }
    ~probe_role() { end(); }
};

// The request timeout, without a timer operation per request: arming it is a
// store of the deadline, and the one timer wakes at most once per timeout
// period to look at it. When the deadline passes, what is under way (the
// lookup, the socket) is cancelled and fails with timed_out.
class watchdog {
public:
    watchdog(const net::any_io_executor& executor, tcp::socket& socket, net::cancellation_signal& lookup)
        : timer_(executor),
          socket_(socket),
          lookup_(lookup) {}

    void arm(std::chrono::steady_clock::time_point deadline) {
        deadline_ = deadline;
        expired_ = false;
        if (!waiting_) wait();
    }
    void disarm() noexcept { deadline_ = std::chrono::steady_clock::time_point::max(); }
    // With the connection closed: a pending wake-up would keep the
    // io_context running until it came.
    void stop() noexcept {
        disarm();
        timer_.cancel();
    }
    bool expired() const noexcept { return expired_; }

private:
    void wait() {
        waiting_ = true;
        timer_.expires_at(deadline_);
        // The weak token: a wake-up already queued when the connection goes
        // must not touch it.
        timer_.async_wait([this, alive = std::weak_ptr<int>(alive_)](boost::system::error_code) {
            if (alive.expired()) return;
            waiting_ = false;
            if (deadline_ == std::chrono::steady_clock::time_point::max()) return;   // idle
            if (std::chrono::steady_clock::now() < deadline_) return wait();   // moved on
            expired_ = true;
            boost::system::error_code ignored;
            socket_.cancel(ignored);
            lookup_.emit(net::cancellation_type::terminal);
        });
    }

    net::steady_timer timer_;
    tcp::socket& socket_;
    net::cancellation_signal& lookup_;
    std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
    bool waiting_ = false;
    bool expired_ = false;
    std::shared_ptr<int> alive_ = std::make_shared<int>();
};

}   // namespace

// One socket of the pool. A connection handle leases it for one exchange.
struct link {
    link(net::any_io_executor ex, connection_pool::resources& state)
        : executor(std::move(ex)),
          pool(state),
          socket(executor),
          timeout(executor, socket, lookup_wait) {}
    ~link() { close_socket(); }
    link(const link&) = delete;
    link& operator=(const link&) = delete;

    // What one read of the socket may bring; the reader copies what it keeps,
    // so this never grows (issue 12: a bounded read buffer).
    static constexpr std::size_t read_capacity = 16 * 1024;

    net::any_io_executor executor;
    connection_pool::resources& pool;
    net::cancellation_signal lookup_wait;   // emitted to stop waiting for the address lookup
    tcp::socket socket;
    tls::inbox tls_inbox;
    tls::bio_transport transport{&tls_inbox, -1};
    ssl_ptr tls;   // none for plain HTTP; freed before its transport
    watchdog timeout;
    std::unique_ptr<char[]> read_buffer = std::make_unique<char[]>(read_capacity);
    bool open = false;
    unsigned exchanges = 0;   // requests this socket carried
    probe_role probe;   // held while this socket is the session probe
    std::chrono::steady_clock::time_point idle_deadline = std::chrono::steady_clock::time_point::max();

    void close_socket() noexcept {
        probe.end();   // a closed connection brings no session
        timeout.stop();   // also after a failed connect, which left it waiting
        boost::system::error_code ignored;
        if (!open) {
            // A lookup or connect under way ends too: a stop does not wait for it.
            lookup_wait.emit(net::cancellation_type::terminal);
            socket.close(ignored);
            return;
        }
        open = false;
        socket.shutdown(tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
    }

    // A kept-alive connection is usable if the server has not closed it (a
    // FIN seen by poll's RDHUP, or a TLS close_notify), has sent nothing we
    // did not ask for, and its advertised idle timeout has not run out.
    // Checked right before writing: a request written into a closing
    // connection could not be told from one the server processed.
    bool still_usable() {
        if (std::chrono::steady_clock::now() >= idle_deadline) return false;
        pollfd probe_fd{socket.native_handle(), POLLIN | POLLRDHUP, 0};
        if (::poll(&probe_fd, 1, 0) < 0) return false;
        if (probe_fd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) return false;
        const bool readable = (probe_fd.revents & POLLIN) != 0;
        // Idle plain HTTP has nothing to say.
        if (!tls) return !readable;
        // TLS 1.3 sends session tickets, which are fine, but a close_notify
        // (servers that hold their FIN: aiohttp, uvicorn) is not; it may also
        // sit unread in the inbox or in OpenSSL, read with the last answer.
        if (!readable && tls_inbox.empty() && SSL_has_pending(tls.get()) == 0) return true;
        return tls_idle_read();
    }

    // A non-blocking read of an idle TLS connection: true when it held only
    // handshake messages (session tickets), false for a close_notify, the
    // end of the stream, an error, or application data nobody asked for.
    bool tls_idle_read() {
        for (;;) {
            ERR_clear_error();
            char byte = 0;
            std::size_t got = 0;
            if (SSL_read_ex(tls.get(), &byte, 1, &got) == 1) return false;
            if (SSL_get_error(tls.get(), 0) != SSL_ERROR_WANT_READ) return false;
            boost::system::error_code ec;
            const auto n = socket.read_some(tls_inbox.room(), ec);   // the socket is non-blocking
            if (ec == net::error::would_block || ec == net::error::try_again) {
                ERR_clear_error();
                return true;
            }
            if (ec) return false;   // the FIN after a close_notify, or a reset
            tls_inbox.filled(n);
        }
    }

    // An Asio wait's error, or timed_out when the watchdog cancelled it.
    boost::system::error_code wait_error(boost::system::error_code ec) const {
        return ec && timeout.expired() ? net::error::timed_out : ec;
    }

    // Runs an SSL call until it completes, waiting for the socket as it asks.
    template <class Call>
    net::awaitable<boost::system::error_code> tls_call(Call call) {
        for (;;) {
            ERR_clear_error();
            errno = 0;
            const int result = call();
            if (result > 0) co_return boost::system::error_code{};
            const int verdict = SSL_get_error(tls.get(), result);
            if (verdict != SSL_ERROR_WANT_READ && verdict != SSL_ERROR_WANT_WRITE) co_return tls::failure(verdict);
            if (timeout.expired()) co_return net::error::timed_out;
            if (verdict == SSL_ERROR_WANT_READ) {
                auto [ec, got] = co_await socket.async_read_some(tls_inbox.room(), use_nothrow);
                if (ec) co_return wait_error(ec);
                tls_inbox.filled(got);
            } else {
                auto [ec] = co_await socket.async_wait(tcp::socket::wait_write, use_nothrow);
                if (ec) co_return wait_error(ec);
            }
        }
    }

    net::awaitable<boost::system::error_code> connect(std::string& detail, attempt_stage& stage) {
        const auto& options = pool.options;
        const auto& endpoint = options.endpoint;
        stage = attempt_stage::connect;
        // Through a proxy the socket goes to the proxy, and a tunnel on to the API.
        const auto peer = options.proxy ? "the proxy " + options.proxy->display : endpoint.host + ":" + endpoint.port;
        // Armed before the lookup: a resolver that never answers is bounded too.
        timeout.arm(std::chrono::steady_clock::now() + options.timeout);
        tcp::resolver::results_type results;
        auto resolve_ec = wait_error(co_await pool.addresses(lookup_wait.slot(), results));
        if (!resolve_ec && timeout.expired()) resolve_ec = net::error::timed_out;   // waited for another's lookup
        if (resolve_ec) {
            timeout.stop();
            detail = "cannot resolve " + (options.proxy ? "the proxy " + options.proxy->host : endpoint.host) + ": " +
                     resolve_ec.message();
            co_return dispatch_errc::resolve_failed;
        }
        auto [connect_ec, address] = co_await net::async_connect(socket, results, use_nothrow);
        if (connect_ec || timeout.expired()) {
            close_socket();
            pool.forget_addresses();
            const auto ec = connect_ec ? wait_error(connect_ec) : net::error::timed_out;
            detail = "cannot connect to " + peer + ": " + ec.message();
            co_return is_timeout(ec) ? dispatch_errc::connect_timeout : dispatch_errc::connect_failed;
        }
        open = true;
        idle_deadline = std::chrono::steady_clock::time_point::max();
        socket.set_option(tcp::no_delay(true));
        socket.non_blocking(true);
        if (options.proxy) {
            if (const auto ec = co_await tunnel(detail)) co_return ec;
        }
        if (pool.tls) {
            const auto ec = co_await handshake(detail);
            if (ec) co_return ec;
        }
        timeout.disarm();
        co_return boost::system::error_code{};
    }

// g++ 12 says the coroutine frame's (sized) operator delete mismatches its
// operator new once they are inlined here: a false positive (GCC PR
// middle-end/109224); the pair is Asio's awaitable frame's own.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
    // CONNECT host:port through the proxy. From its 2xx on, the bytes are the
    // API's: TLS (SNI, verification) runs end to end as without a proxy.
    net::awaitable<boost::system::error_code> tunnel(std::string& detail) {
        const auto& options = pool.options;
        const auto& proxy = *options.proxy;
        const auto request = connect_request(proxy, options.endpoint.host, options.endpoint.port);
        const auto target = " " + request.substr(0, request.find(" HTTP/1.1"));   // " CONNECT host:port"
        const auto failed = [&](std::string what, dispatch_errc code) {
            close_socket();
            detail = "the proxy " + proxy.display + what;
            return make_error_code(code);
        };
        auto [write_ec, written] = co_await net::async_write(socket, net::buffer(request), use_nothrow);
        std::string reply_bytes;
        connect_reply reply;
        boost::system::error_code ec = wait_error(write_ec);
        while (!ec && (reply = parse_connect_reply(reply_bytes)).result == connect_reply::state::incomplete) {
            char chunk[1024];
            auto [read_ec, got] = co_await socket.async_read_some(net::buffer(chunk), use_nothrow);
            ec = wait_error(read_ec);
            reply_bytes.append(chunk, got);
        }
        if (ec)
            co_return failed(" did not answer" + target + ": " + ec.message(),
                             is_timeout(ec) ? dispatch_errc::connect_timeout : dispatch_errc::connect_failed);
        const auto status = " answered" + target + " with " + std::to_string(reply.status) + " " + reply.reason;
        switch (reply.result) {
        case connect_reply::state::established:
            // Neither TLS nor HTTP/1.1 servers speak first: bytes already
            // here came from the proxy, not through the tunnel.
            if (reply_bytes.size() == reply.head_size) co_return boost::system::error_code{};
            co_return failed(" sent bytes after its reply to" + target, dispatch_errc::proxy_refused);
        case connect_reply::state::refused:
            // 407 as RFC 9110 says; some proxies (tinyproxy) answer 401.
            if (reply.status == 407 || reply.status == 401)
                co_return failed(status + (proxy.authorization.empty()
                                               ? " (it wants credentials: http://USER:PASSWORD@ in the proxy URL)"
                                               : " (it refused the proxy URL's credentials)"),
                                 dispatch_errc::proxy_auth_required);
            co_return failed(status, dispatch_errc::proxy_refused);
        case connect_reply::state::malformed:
        case connect_reply::state::incomplete: break;
        }
        co_return failed(" answered" + target + " with something other than HTTP/1.x", dispatch_errc::proxy_refused);
    }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

    // Sets up the SSL object; false (and detail) when OpenSSL refused a setting.
    bool prepare_tls(std::string& detail) {
        const auto& options = pool.options;
        const auto& host = options.endpoint.host;
        tls.reset(SSL_new(pool.tls->native_handle()));
        SSL* ssl = tls.get();
        BIO* bio = ssl != nullptr ? BIO_new(tls::bio_transport::method()) : nullptr;
        const auto refused = [&](const char* what) {
            detail = std::string("cannot set up TLS for ") + host + ": OpenSSL refused " + what;
            return false;
        };
        if (bio == nullptr) return refused("a new connection");
        tls_inbox.clear();
        transport.descriptor = static_cast<int>(socket.native_handle());
        BIO_set_data(bio, &transport);
        BIO_set_init(bio, 1);
        SSL_set_bio(ssl, bio, bio);
        if (SSL_set_app_data(ssl, &pool) != 1) return refused("the session callback's data");
        const bool ip_literal = is_ip_literal(host);
        // SNI takes names only. A refused setter must not go unnoticed: a
        // name OpenSSL did not take is a name it does not check (issue 12).
        if (!ip_literal && SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) return refused("the server name (SNI)");
        // OpenSSL checks the name against the certificate while it verifies the chain.
        if (!options.insecure) {
            if (ip_literal ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) != 1
                           : SSL_set1_host(ssl, host.c_str()) != 1)
                return refused("the host name to verify");
        }
        if (pool.session != nullptr && SSL_set_session(ssl, pool.session) != 1) return refused("the session to resume");
        return true;
    }

    net::awaitable<boost::system::error_code> handshake(std::string& detail) {
        const auto& host = pool.options.endpoint.host;
        if (!prepare_tls(detail)) {
            close_socket();
            co_return dispatch_errc::tls_handshake_failed;
        }
        SSL* ssl = tls.get();
        const auto handshake_ec = co_await tls_call([ssl] { return SSL_connect(ssl); });
        if (!handshake_ec) co_return handshake_ec;
        close_socket();
        const long verify = SSL_get_verify_result(ssl);
        if (verify != X509_V_OK ||
            ERR_GET_REASON(static_cast<unsigned long>(handshake_ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
            detail = std::string("the server certificate of ") + host + " failed verification: " +
                     (verify != X509_V_OK ? X509_verify_cert_error_string(verify) : "host name mismatch");
            co_return dispatch_errc::tls_verify_failed;
        }
        detail = "TLS handshake with " + host + " failed: " + handshake_ec.message();
        co_return is_timeout(handshake_ec) ? dispatch_errc::connect_timeout : dispatch_errc::tls_handshake_failed;
    }

    net::awaitable<boost::system::error_code> write_request(const std::string& bytes) {
        if (!tls) {
            auto [ec, written] = co_await net::async_write(socket, net::buffer(bytes), use_nothrow);
            co_return wait_error(ec);
        }
        std::size_t written = 0;
        co_return co_await tls_call([&] { return SSL_write_ex(tls.get(), bytes.data(), bytes.size(), &written); });
    }

    net::awaitable<boost::system::error_code> read_some(std::size_t& got) {
        got = 0;
        if (!tls) {
            // The watchdog may have fired between two reads, when nothing was
            // pending to cancel: do not start another one (issue 12).
            if (timeout.expired()) co_return net::error::timed_out;
            auto [ec, n] = co_await socket.async_read_some(net::buffer(read_buffer.get(), read_capacity), use_nothrow);
            got = n;
            co_return wait_error(ec);
        }
        co_return co_await tls_call([&] { return SSL_read_ex(tls.get(), read_buffer.get(), read_capacity, &got); });
    }

    // After the server's FIN or close_notify and no answer: whether its
    // kernel then reset the connection, which it does when the server closes
    // with our request unread in its buffer. A FIN instead says it may have
    // read it. One read of the raw socket, bounded by the request timeout.
    net::awaitable<bool> reset_follows() {
        char byte = 0;
        for (;;) {
            boost::system::error_code ec;
            socket.read_some(net::buffer(&byte, 1), ec);   // non-blocking
            if (ec != net::error::would_block && ec != net::error::try_again)
                co_return ec == net::error::connection_reset;
            if (timeout.expired()) co_return false;
            auto [wait_ec] = co_await socket.async_wait(tcp::socket::wait_read, use_nothrow);
            if (wait_ec) co_return false;
        }
    }

    // Reads one final answer into the reader, skipping interim ones. Clear
    // with an answer; a socket error, or bad_http_response with the reader's
    // framing verdict. leftover: bytes came after the answer.
    net::awaitable<boost::system::error_code> read_answer(response_reader& reader, bool& leftover) {
        leftover = false;
        for (;;) {
            std::size_t got = 0;
            const auto ec = co_await read_some(got);
            if (ec == net::error::eof) {
                switch (reader.feed_eof()) {
                case response_reader::eof_verdict::final_answer: co_return boost::system::error_code{};
                case response_reader::eof_verdict::bad_framing: co_return dispatch_errc::bad_http_response;
                case response_reader::eof_verdict::no_answer: co_return net::error::eof;
                }
            }
            if (ec) co_return ec;
            std::string_view bytes(read_buffer.get(), got);
            while (!bytes.empty()) {
                std::size_t used = 0;
                const auto event = reader.feed(bytes, used);
                bytes.remove_prefix(used);
                switch (event) {
                case read_event::need_more:
                case read_event::interim: continue;
                case read_event::final_answer:
                    leftover = !bytes.empty() || (tls && SSL_pending(tls.get()) > 0);
                    co_return boost::system::error_code{};
                case read_event::bad_framing: co_return dispatch_errc::bad_http_response;
                }
            }
        }
    }
};

struct connection::impl {
    impl(net::any_io_executor ex, std::shared_ptr<connection_pool::resources> state)
        : executor(std::move(ex)),
          pool(std::move(state)) {
        ++pool->open_handles;
    }
    ~impl() { close(); }

    net::any_io_executor executor;
    std::shared_ptr<connection_pool::resources> pool;
    link_ptr leased;   // the socket of the exchange under way
    link* connecting = nullptr;   // the socket being opened (lookup, connect, handshake), if any
    response_reader reader;   // the last answer; the http_answer's views point here
    std::string request_bytes;
    std::string detail;
    std::uint64_t stale = 0;
    bool closed = false;

    void close() noexcept {
        if (leased) leased->close_socket();
        if (connecting) connecting->close_socket();
        // When the last handle is closed (its worker done, or the batch
        // stopping), the idle sockets have nothing more to carry.
        if (!closed && (closed = true) && --pool->open_handles == 0) pool->close_idle();
    }

    // A new socket, resuming the probe's TLS session when there is one.
    net::awaitable<link_ptr> make_link(http_answer& answer) {
        link_ptr fresh(new link(executor, *pool));
        if (pool->start_probe(executor))
            fresh->probe.pool = pool.get();
        else
            co_await pool->wait_for_probe();
        if (closed) {
            // Closed (the batch stopping) while it waited for the first session.
            answer.ec = net::error::operation_aborted;
            answer.stage = attempt_stage::connect;
            detail = "closed before the connection was made";
            answer.detail = detail;
            co_return nullptr;
        }
        {
            // Cleared however connect ends (it can throw): close() must not reach a freed link.
            struct clear_on_exit {
                link*& pointer;
                ~clear_on_exit() { pointer = nullptr; }
            } clear{connecting};
            connecting = fresh.get();
            answer.ec = co_await fresh->connect(detail, answer.stage);
        }
        if (answer.ec) {
            fresh->probe.end();
            answer.detail = detail;
            fresh.reset();
        }
        co_return fresh;
    }

    // The most recently used idle socket the server has not closed; those it
    // has are dropped on the way.
    link_ptr take_idle() {
        auto& idle = pool->idle;
        while (!idle.empty()) {
            auto candidate = std::move(idle.back());
            idle.pop_back();
            if (candidate->open && candidate->still_usable()) return candidate;
            ++stale;
        }
        return nullptr;
    }

    void build_request(const http_request& request) {
        request_bytes.clear();
        request_bytes += request.method;
        request_bytes += ' ';
        request_bytes += request.target;
        request_bytes += pool->fixed_headers;
        if (!request.idempotency_key.empty()) {
            request_bytes += "Idempotency-Key: ";
            request_bytes += request.idempotency_key;
            request_bytes += "\r\n";
        }
        // RFC 9110 §8.6: a POST without a body still says so; a GET does not.
        if (!request.body.empty() || (request.method != "GET" && request.method != "HEAD")) {
            if (!request.body.empty()) request_bytes += "Content-Type: application/json\r\n";
            request_bytes += "Content-Length: ";
            char digits[24];
            const auto end = std::to_chars(digits, digits + sizeof digits, request.body.size()).ptr;
            request_bytes.append(digits, end);
            request_bytes += "\r\n";
        }
        request_bytes += "\r\n";
        request_bytes += request.body;
    }

    net::awaitable<void> exchange(link& socket, bool head_request, http_answer& answer) {
        const auto started = std::chrono::steady_clock::now();
        socket.timeout.arm(started + pool->options.timeout);
        answer.stage = attempt_stage::write;
        if (const auto write_ec = co_await socket.write_request(request_bytes)) {
            // Not all of the request reached the socket: the server cannot have acted on it.
            socket.close_socket();
            detail = "writing the request failed: " + write_ec.message();
            answer.ec = answer.reused_connection ? dispatch_errc::stale_connection : dispatch_errc::connect_failed;
            co_return;
        }
        answer.stage = attempt_stage::read;
        reader.reset(head_request);
        bool leftover = false;
        const auto read_ec = co_await socket.read_answer(reader, leftover);
        answer.elapsed = std::chrono::steady_clock::now() - started;
        const bool closed_unanswered = answer.reused_connection && !reader.got_some() && read_ec == net::error::eof;
        const bool unread = closed_unanswered && co_await socket.reset_follows();
        socket.timeout.disarm();
        if (reader.status() != 0) {
            // A status line came: the answer is judged by it, even if the rest failed.
            answer.stage = attempt_stage::answered;
            answer.status = reader.status();
            answer.headers = reader.headers();
        }
        if (read_ec) {
            socket.close_socket();
            if (read_ec == dispatch_errc::bad_http_response) {
                detail = "the answer could not be read: ";
                detail += reader.framing_error();
                answer.ec = read_ec;
                co_return;
            }
            if (answer.reused_connection && !reader.got_some() && (read_ec == net::error::connection_reset || unread)) {
                // The stale-connection race: the server closed the kept-alive
                // connection while the request was on its way. A reset (also
                // one right after its FIN or close_notify), not a clean close,
                // says it left the request unread, so it cannot have acted on
                // it: the request goes again on a new connection.
                ++stale;
                detail = "the server reset the kept-alive connection before answering: " + read_ec.message();
                answer.ec = dispatch_errc::stale_connection;
                co_return;
            }
            detail = "no answer after the request was sent: " + read_ec.message();
            answer.ec = is_timeout(read_ec) ? dispatch_errc::response_timeout : dispatch_errc::connection_lost;
            co_return;
        }
        answer.body = reader.body();
        // Bytes after the answer, or a close asked for: this socket is done.
        if (leftover || !reader.keep_alive()) {
            socket.close_socket();
            co_return;
        }
        if (const auto keep_alive = reader.keep_alive_timeout()) {
            // Leave a margin so that we retire the connection before the server does.
            socket.idle_deadline = std::chrono::steady_clock::now() + *keep_alive * 3 / 4;
        }
    }
};

void link_deleter::operator()(link* l) const noexcept {
    delete l;
}

void connection_pool::resources::close_idle() noexcept {
    idle.clear();
}

connection_pool::resources::~resources() {
    if (lookup.thread) {
        // A lookup still under way has nobody to tell its answer to.
        const std::lock_guard lock(lookup.thread->mutex);
        lookup.thread->pool = nullptr;
    }
    idle.clear();   // before the session and the TLS context they use
    SSL_SESSION_free(session);
}

connection::connection(net::any_io_executor executor, const connection_pool& pool)
    : impl_(std::make_unique<impl>(std::move(executor), pool.shared_resources())) {}
connection::~connection() = default;

net::awaitable<http_answer> connection::open() {
    auto& self = *impl_;
    auto& pool = *self.pool;
    http_answer answer;
    // A socket ready in the pool (checked by send, right before it is written
    // to), or one on its way, will do. One spare at a time: a socket opened
    // for every waiting worker would idle until the server closed it, and a
    // request taken up by one just as the server does so ends unknown.
    if (!pool.idle.empty() || pool.opening > 0) co_return answer;
    link_ptr fresh;
    {
        // Counted down however make_link ends (it can throw): a count left
        // up would have every later open() think a spare is on its way.
        struct opened_on_exit {
            unsigned& opening;
            ~opened_on_exit() { --opening; }
        } opened{++pool.opening};
        fresh = co_await self.make_link(answer);
    }
    if (fresh) pool.idle.push_back(std::move(fresh));
    co_return answer;
}

bool connection::is_open() const noexcept {
    return !impl_->pool->idle.empty() || impl_->pool->opening > 0;
}

net::awaitable<http_answer> connection::send(const http_request& request) {
    auto& self = *impl_;
    http_answer answer;
    self.reader.reset();
    self.leased = self.take_idle();
    if (!self.leased) {
        self.leased = co_await self.make_link(answer);
        if (!self.leased) co_return answer;
    }
    auto& socket = *self.leased;
    answer.reused_connection = socket.exchanges++ > 0;
    self.build_request(request);
    co_await self.exchange(socket, request.method == "HEAD", answer);
    socket.probe.end();
    if (answer.ec) answer.detail = self.detail;
    // Back to the pool, on top, unless it is closed.
    if (socket.open) self.pool->idle.push_back(std::move(self.leased));
    self.leased.reset();
    co_return answer;
}

bool connection::connecting() const noexcept {
    return impl_->connecting != nullptr;
}

void connection::close() noexcept {
    impl_->close();
}

std::uint64_t connection::stale_reconnects() const noexcept {
    return impl_->stale;
}

}   // namespace invent_dispatch
