#include "invent_dispatch/http_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <charconv>
#include <poll.h>
#include <sys/socket.h>
#include <stdexcept>
#include <utility>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "invent_dispatch/encoding.hpp"
#include "invent_dispatch/errors.hpp"
#include "invent_dispatch/response_parser.hpp"

namespace invent_dispatch {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);
constexpr std::size_t max_body_bytes = 16 * 1024 * 1024;
constexpr std::size_t max_header_bytes = 64 * 1024;

bool is_ip_literal(const std::string& host) {
    boost::system::error_code ec;
    net::ip::make_address(host, ec);
    return !ec;
}

std::string host_header(const api_endpoint& endpoint) {
    std::string host = endpoint.host.find(':') != std::string::npos
                           ? "[" + endpoint.host + "]"
                           : endpoint.host;
    const bool default_port = (endpoint.tls && endpoint.port == "443") ||
                              (!endpoint.tls && endpoint.port == "80");
    if (!default_port) host += ":" + endpoint.port;
    return host;
}

} // namespace

struct http_client::shared {
    client_options options;
    std::optional<ssl::context> tls;
    std::string fixed_headers;      // from " HTTP/1.1" to User-Agent, CRLF-terminated
    SSL_SESSION* session = nullptr; // the last resumable session, for reconnects
    // The first TLS connection is the session probe: until the server gives
    // it a session (or its first answer comes, or max_session_wait passes)
    // other connections wait instead of making full handshakes of their own.
    // Verifying the server's certificate chain is most of a handshake's cost
    // (OpenSSL 3.0: ~4 of ~5.5 M instructions), and a resumed handshake skips
    // it, so hundreds of connections come up several times faster.
    enum class probe_state { not_started, in_flight, over } probe = probe_state::not_started;
    std::optional<net::steady_timer> session_ready;   // fires at the bound; cancelled when the probe ends

    explicit shared(client_options opts) : options(std::move(opts)) {
        if (options.endpoint.tls) tls.emplace(make_tls_context(options));
        fixed_headers = " HTTP/1.1\r\nHost: " + host_header(options.endpoint) +
                        "\r\nAuthorization: Bearer " + options.token +
                        "\r\nAccept: application/json\r\nAccept-Encoding: identity"
                        "\r\nUser-Agent: invent-dispatch/" INVENT_DISPATCH_VERSION "\r\n";
    }
    ~shared() { SSL_SESSION_free(session); }
    shared(const shared&) = delete;
    shared& operator=(const shared&) = delete;

    static constexpr std::chrono::milliseconds max_session_wait{250};

    // True when the caller is to be the session probe (and must call end_probe).
    bool start_probe(const net::any_io_executor& executor) {
        if (!tls || probe != probe_state::not_started) return false;
        probe = probe_state::in_flight;
        session_ready.emplace(executor, std::chrono::steady_clock::now() + max_session_wait);
        return true;
    }
    void end_probe() {
        probe = probe_state::over;
        session_ready->cancel();
    }
    net::awaitable<void> wait_for_probe() {
        if (probe != probe_state::in_flight) co_return;
        co_await session_ready->async_wait(use_nothrow);
    }

    // The server's addresses, resolved once for the whole pool: a thousand
    // connections opening at once would otherwise queue a thousand lookups
    // on Asio's resolver thread (tens of ms before the first request). Looked
    // up again after address_ttl, or after a connect to them failed.
    net::awaitable<boost::system::error_code> addresses(tcp::resolver& resolver, tcp::resolver::results_type& out) {
        if (lookup.in_flight) {
            // Another connection is asking: take its answer, good or bad.
            co_await lookup.done->async_wait(use_nothrow);
            out = lookup.results;
            co_return lookup.error;
        }
        if (std::chrono::steady_clock::now() < lookup.valid_until) {
            out = lookup.results;
            co_return boost::system::error_code{};
        }
        lookup.in_flight = true;
        lookup.done.emplace(resolver.get_executor(), std::chrono::steady_clock::time_point::max());
        auto [ec, results] = co_await resolver.async_resolve(options.endpoint.host, options.endpoint.port, use_nothrow);
        lookup.in_flight = false;
        lookup.error = ec;
        lookup.results = ec ? tcp::resolver::results_type{} : results;
        lookup.valid_until = ec ? std::chrono::steady_clock::time_point{}
                                : std::chrono::steady_clock::now() + address_ttl;
        lookup.done->cancel();
        out = lookup.results;
        co_return ec;
    }
    void forget_addresses() noexcept { lookup.valid_until = {}; }

    static constexpr std::chrono::seconds address_ttl{60};
    struct {
        tcp::resolver::results_type results;
        boost::system::error_code error;
        std::chrono::steady_clock::time_point valid_until{};
        bool in_flight = false;
        std::optional<net::steady_timer> done;   // cancelled when the lookup in flight ends
    } lookup;

    // OpenSSL's new-session callback: the server's ticket (TLS 1.3, read with
    // the first answer or just before it) or session (TLS 1.2, in the
    // handshake) ends the probe at once. True when the session was taken.
    bool keep_session(SSL_SESSION* fresh) {
        if (!SSL_SESSION_is_resumable(fresh)) return false;
        SSL_SESSION_free(session);
        session = fresh;
        if (probe == probe_state::in_flight) end_probe();
        return true;
    }
};

ssl::context make_tls_context(const client_options& options) {
    // tls_client + a 1.2 floor: tlsv12_client would pin exactly 1.2.
    ssl::context context(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
    context.set_default_verify_paths();
    if (options.ca_file) {
        boost::system::error_code ec;
        context.load_verify_file(*options.ca_file, ec);
        if (ec) throw std::runtime_error(*options.ca_file + ": cannot use as a CA file: " + ec.message());
    }
    if (!options.extra_ca_pem.empty())
        context.add_certificate_authority(net::buffer(options.extra_ca_pem));
    context.set_verify_mode(options.insecure ? ssl::verify_none : ssl::verify_peer);
    SSL_CTX* native = context.native_handle();
    // Sessions come to the client through the callback, for the pool to resume.
    SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(native, [](SSL* ssl, SSL_SESSION* session) -> int {
        auto* client = static_cast<http_client::shared*>(SSL_get_app_data(ssl));
        return client != nullptr && client->keep_session(session) ? 1 : 0;
    });
    return context;
}

http_request chat_creation(const chat_request& row, std::string_view base_path, std::string& target) {
    target.assign(base_path);
    append_chat_path(target, row.key);
    return {"POST", target, row.body, row.idempotency_key};
}

http_client::http_client(client_options options)
    : shared_(std::make_shared<shared>(std::move(options))) {}
http_client::~http_client() = default;
const client_options& http_client::options() const noexcept { return shared_->options; }

namespace {

// The headers we use, by name (lower case), and where each one's value goes.
constexpr std::array<std::pair<std::string_view, std::string_view response_headers::*>, 9> used_headers{{
    {"retry-after", &response_headers::retry_after},
    {"content-type", &response_headers::content_type},
    {"content-encoding", &response_headers::content_encoding},
    {"pagination-count", &response_headers::pagination_count},
    {"ratelimit", &response_headers::ratelimit},
    {"ratelimit-policy", &response_headers::ratelimit_policy},
    {"x-ratelimit-limit", &response_headers::x_ratelimit_limit},
    {"x-ratelimit-remaining", &response_headers::x_ratelimit_remaining},
    {"x-ratelimit-reset", &response_headers::x_ratelimit_reset},
}};

// Reads one response keeping only what the dispatcher needs: the status,
// the headers we use, keep-alive, and the body in a reused, simdjson-padded
// buffer.
class response_reader final : public http::basic_parser<false> {
public:
    using header_values = std::array<std::string, used_headers.size()>;

    response_reader(std::string& body, header_values& values) : body_(body), values_(values) {
        body_.clear();
        for (auto& value : values_) value.clear();
        header_limit(max_header_bytes);
        body_limit(max_body_bytes);
    }
    int status() const noexcept { return status_; }
    std::optional<std::chrono::seconds> keep_alive_timeout() const noexcept { return keep_alive_timeout_; }
    // Views of the values kept; valid while they are.
    response_headers headers() const noexcept {
        response_headers out;
        for (std::size_t i = 0; i < used_headers.size(); ++i) out.*used_headers[i].second = values_[i];
        return out;
    }

private:
    void on_request_impl(http::verb, beast::string_view, beast::string_view, int,
                         beast::error_code&) override {}
    void on_response_impl(int code, beast::string_view, int, beast::error_code&) override {
        status_ = code;
    }
    void on_field_impl(http::field name, beast::string_view name_text, beast::string_view value,
                       beast::error_code&) override {
        if (name == http::field::keep_alive) {
            // "timeout=5, max=100": the server closes idle connections after 5 s.
            const auto at = value.find("timeout=");
            if (at == beast::string_view::npos) return;
            unsigned seconds = 0;
            const char* first = value.data() + at + 8;
            if (std::from_chars(first, value.data() + value.size(), seconds).ec == std::errc{})
                keep_alive_timeout_ = std::chrono::seconds(seconds);
            return;
        }
        for (std::size_t i = 0; i < used_headers.size(); ++i) {
            if (!beast::iequals(name_text, used_headers[i].first)) continue;
            auto& kept = values_[i];
            if (!kept.empty()) kept += ", ";
            kept.append(value.data(), value.size());
            return;
        }
    }
    void on_header_impl(beast::error_code&) override {}
    void on_body_init_impl(const boost::optional<std::uint64_t>& length, beast::error_code&) override {
        if (length) body_.reserve(*length + simdjson_slack);
    }
    std::size_t on_body_impl(beast::string_view chunk, beast::error_code&) override {
        body_.append(chunk.data(), chunk.size());
        return chunk.size();
    }
    void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
    std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view chunk, beast::error_code& ec) override {
        return on_body_impl(chunk, ec);
    }
    void on_finish_impl(beast::error_code&) override {}

    static constexpr std::size_t simdjson_slack = simdjson::SIMDJSON_PADDING;
    std::string& body_;
    header_values& values_;
    int status_ = 0;
    std::optional<std::chrono::seconds> keep_alive_timeout_;
};

bool is_timeout(const boost::system::error_code& ec) {
    return ec == net::error::timed_out;
}

// Held by the connection that probes for the TLS session: ended by the
// session's arrival, its first answer, a failure, or the connection's end.
struct probe_role {
    http_client::shared* client = nullptr;
    void end() noexcept {
        if (client != nullptr) std::exchange(client, nullptr)->end_probe();
    }
    ~probe_role() { end(); }
};

// The request timeout, without a timer operation per request: arming it is a
// store of the deadline, and the one timer wakes at most once per timeout
// period to look at it. When the deadline passes, what is under way on the
// socket is cancelled and fails with timed_out.
class watchdog {
public:
    watchdog(const net::any_io_executor& executor, tcp::socket& socket) : timer_(executor), socket_(socket) {}

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
            if (std::chrono::steady_clock::now() < deadline_) return wait();        // moved on
            expired_ = true;
            boost::system::error_code ignored;
            socket_.cancel(ignored);
        });
    }

    net::steady_timer timer_;
    tcp::socket& socket_;
    std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
    bool waiting_ = false;
    bool expired_ = false;
    std::shared_ptr<int> alive_ = std::make_shared<int>();
};

struct ssl_free_deleter {
    void operator()(SSL* ssl) const noexcept { SSL_free(ssl); }
};

// What a failed SSL call (SSL_get_error's verdict) means as an error code.
// Called right after the call, while errno and OpenSSL's error queue hold its
// cause. The end of the stream never gets here: Asio's read reports it.
boost::system::error_code tls_failure(int verdict) {
    const int sys_error = errno;
    if (verdict == SSL_ERROR_ZERO_RETURN) return net::error::eof;   // the server's close_notify
    if (const unsigned long queued = ERR_get_error())
        return {static_cast<int>(queued), net::error::get_ssl_category()};
    // SSL_ERROR_SYSCALL: sending failed, and errno says why.
    return {sys_error != 0 ? sys_error : EIO, boost::system::system_category()};
}

// The bytes read from the socket that OpenSSL has not taken yet. OpenSSL
// takes all there is before it asks for more (a record larger than what one
// read brought is assembled in its own buffer), so a read always finds the
// inbox empty and has all of it.
class inbox {
public:
    static constexpr std::size_t capacity = 16 * 1024;

    std::size_t take(char* out, std::size_t size) noexcept {
        const auto n = std::min(size, end_ - begin_);
        if (n == 0) return 0;   // and no bytes_ yet before the first read
        std::memcpy(out, bytes_.get() + begin_, n);
        begin_ += n;
        return n;
    }
    // Where the next read of the socket goes; filled(n) once it came.
    net::mutable_buffer room() {
        if (!bytes_) bytes_ = std::make_unique<char[]>(capacity);   // TLS connections only
        begin_ = end_ = 0;
        return {bytes_.get(), capacity};
    }
    void filled(std::size_t n) noexcept { end_ = n; }
    void clear() noexcept { begin_ = end_ = 0; }

private:
    std::unique_ptr<char[]> bytes_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
};

// OpenSSL's transport for a connection: it reads records from the inbox
// (what Asio read from the socket) and writes straight to the socket.
struct tls_transport {
    inbox* in;
    int descriptor;

    static BIO_METHOD* method() {
        static BIO_METHOD* const made = [] {
            BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "invent-dispatch");
            BIO_meth_set_read_ex(m, &read);
            BIO_meth_set_write_ex(m, &write);
            BIO_meth_set_ctrl(m, &control);
            return m;
        }();
        return made;
    }

private:
    static tls_transport& of(BIO* bio) { return *static_cast<tls_transport*>(BIO_get_data(bio)); }

    static int read(BIO* bio, char* out, std::size_t size, std::size_t* got) {
        BIO_clear_retry_flags(bio);
        *got = of(bio).in->take(out, size);
        if (*got != 0) return 1;
        BIO_set_retry_read(bio);   // the caller reads the socket into the inbox and calls again
        return 0;
    }
    static int write(BIO* bio, const char* data, std::size_t size, std::size_t* written) {
        BIO_clear_retry_flags(bio);
        // MSG_NOSIGNAL: a write to a connection the server has closed fails
        // with EPIPE instead of raising SIGPIPE.
        const auto n = ::send(of(bio).descriptor, data, size, MSG_NOSIGNAL);
        if (n >= 0) {
            *written = static_cast<std::size_t>(n);
            return 1;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_write(bio);
        return 0;   // errno tells SSL_ERROR_SYSCALL's cause
    }
    static long control(BIO*, int command, long, void*) { return command == BIO_CTRL_FLUSH ? 1 : 0; }
};

} // namespace

// TLS runs over a BIO of our own: Asio reads the socket into the inbox,
// OpenSSL decrypts from there and writes to the socket itself. That saves
// asio::ssl::stream's memory-BIO pair (one more copy of every record and an
// engine state machine: about 8 % of a request's CPU in the profile), and a
// wait for readiness is Asio's read itself, with no epoll_ctl for each.
struct connection::impl {
    impl(net::any_io_executor ex, std::shared_ptr<http_client::shared> state)
        : executor(std::move(ex)), client(std::move(state)), resolver(executor), socket(executor),
          timeout(executor, socket) {
        // Beast's parser is fed what one read brings: room for a whole answer
        // up front means one read a 5 KB answer, not ten of 512 bytes.
        read_buffer.reserve(read_buffer_capacity);
    }
    ~impl() { close_socket(); }
    static constexpr std::size_t read_buffer_capacity = 16 * 1024;

    net::any_io_executor executor;
    std::shared_ptr<http_client::shared> client;
    tcp::resolver resolver;
    tcp::socket socket;
    inbox tls_inbox;
    tls_transport transport{&tls_inbox, -1};
    std::unique_ptr<SSL, ssl_free_deleter> tls;   // none for plain HTTP; freed before its transport
    watchdog timeout;
    beast::flat_buffer read_buffer;
    std::string request_bytes;
    std::string body;
    response_reader::header_values header_values;
    std::string detail;
    bool open = false;
    unsigned exchanges = 0;   // requests this connection carried since it was made
    probe_role probe;   // held while this connection is the session probe
    std::chrono::steady_clock::time_point idle_deadline = std::chrono::steady_clock::time_point::max();
    std::uint64_t stale = 0;

    void close_socket() noexcept {
        probe.end();      // a closed connection brings no session
        timeout.stop();   // also after a failed connect, which left it waiting
        boost::system::error_code ignored;
        if (!open) {
            // A lookup or connect under way ends too: a stop does not wait for it.
            resolver.cancel();
            socket.close(ignored);
            return;
        }
        open = false;
        socket.shutdown(tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
    }

    // A kept-alive connection is usable if the server has not closed it (FIN
    // seen by poll's RDHUP) and its advertised idle timeout has not run out.
    // Checking before writing avoids sending into a closing connection, where
    // an unanswered request could not be told from one the server processed.
    bool still_open() {
        if (std::chrono::steady_clock::now() >= idle_deadline) return false;
        pollfd probe{socket.native_handle(), POLLIN | POLLRDHUP, 0};
        if (::poll(&probe, 1, 0) < 0) return false;
        if (probe.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) return false;
        // Idle plain HTTP has nothing to say; TLS 1.3 may have sent session tickets.
        return !(probe.revents & POLLIN) || tls != nullptr;
    }

    // Drops a kept-alive connection the server has closed (or is about to).
    void drop_if_stale() {
        if (!open || still_open()) return;
        close_socket();
        ++stale;
    }

    // A new connection, resuming the probe's TLS session when there is one.
    net::awaitable<boost::system::error_code> make_connection() {
        if (client->start_probe(executor)) probe.client = client.get();
        else co_await client->wait_for_probe();
        exchanges = 0;
        const auto ec = co_await connect();
        if (ec) probe.end();
        co_return ec;
    }

    void build_request(const http_request& request) {
        request_bytes.clear();
        request_bytes += request.method;
        request_bytes += ' ';
        request_bytes += request.target;
        request_bytes += client->fixed_headers;
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

    // An Asio wait's error, or timed_out when the watchdog cancelled it.
    boost::system::error_code waited(boost::system::error_code ec) const {
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
            if (verdict != SSL_ERROR_WANT_READ && verdict != SSL_ERROR_WANT_WRITE) co_return tls_failure(verdict);
            if (timeout.expired()) co_return net::error::timed_out;
            if (verdict == SSL_ERROR_WANT_READ) {
                auto [ec, got] = co_await socket.async_read_some(tls_inbox.room(), use_nothrow);
                if (ec) co_return waited(ec);
                tls_inbox.filled(got);
            } else {
                auto [ec] = co_await socket.async_wait(tcp::socket::wait_write, use_nothrow);
                if (ec) co_return waited(ec);
            }
        }
    }

    net::awaitable<boost::system::error_code> write_request() {
        if (!tls) {
            auto [ec, written] = co_await net::async_write(socket, net::buffer(request_bytes), use_nothrow);
            co_return waited(ec);
        }
        std::size_t written = 0;
        co_return co_await tls_call([&] {
            return SSL_write_ex(tls.get(), request_bytes.data(), request_bytes.size(), &written);
        });
    }

    net::awaitable<boost::system::error_code> read_some(net::mutable_buffer into, std::size_t& got) {
        got = 0;
        if (!tls) {
            auto [ec, n] = co_await socket.async_read_some(into, use_nothrow);
            got = n;
            co_return waited(ec);
        }
        co_return co_await tls_call([&] { return SSL_read_ex(tls.get(), into.data(), into.size(), &got); });
    }

    // Reads one answer into the reader; the error is the socket's or Beast's.
    net::awaitable<boost::system::error_code> read_response(response_reader& reader) {
        for (;;) {
            if (read_buffer.size() != 0) {
                boost::system::error_code ec;
                const auto used = reader.put(read_buffer.data(), ec);
                read_buffer.consume(used);
                if (reader.is_done()) co_return boost::system::error_code{};
                if (ec && ec != http::error::need_more) co_return ec;
                if (!ec && used != 0 && read_buffer.size() != 0) continue;   // the head went; the body is here
            }
            std::size_t got = 0;
            const auto ec = co_await read_some(read_buffer.prepare(beast::read_size(read_buffer, 65536)), got);
            if (ec == net::error::eof) {
                // The end of a body framed by the close, or an answer cut short.
                if (!reader.got_some()) co_return http::error::end_of_stream;
                boost::system::error_code framing;
                reader.put_eof(framing);
                co_return framing;
            }
            if (ec) co_return ec;
            read_buffer.commit(got);
        }
    }

    net::awaitable<boost::system::error_code> connect() {
        const auto& options = client->options;
        const auto& endpoint = options.endpoint;
        tcp::resolver::results_type results;
        if (const auto resolve_ec = co_await client->addresses(resolver, results)) {
            detail = "cannot resolve " + endpoint.host + ": " + resolve_ec.message();
            co_return dispatch_errc::connect_failed;
        }
        read_buffer.clear();
        timeout.arm(std::chrono::steady_clock::now() + options.timeout);
        auto [connect_ec, peer] = co_await net::async_connect(socket, results, use_nothrow);
        if (connect_ec) {
            close_socket();
            client->forget_addresses();
            const auto ec = waited(connect_ec);
            detail = "cannot connect to " + endpoint.host + ":" + endpoint.port + ": " + ec.message();
            co_return is_timeout(ec) ? dispatch_errc::connect_timeout : dispatch_errc::connect_failed;
        }
        open = true;
        idle_deadline = std::chrono::steady_clock::time_point::max();
        socket.set_option(tcp::no_delay(true));
        socket.non_blocking(true);
        if (client->tls) {
            const auto ec = co_await handshake();
            if (ec) co_return ec;
        }
        timeout.disarm();
        co_return boost::system::error_code{};
    }

    net::awaitable<boost::system::error_code> handshake() {
        const auto& options = client->options;
        const auto& host = options.endpoint.host;
        tls.reset(SSL_new(client->tls->native_handle()));
        SSL* ssl = tls.get();
        BIO* bio = ssl != nullptr ? BIO_new(tls_transport::method()) : nullptr;
        if (bio == nullptr) {
            close_socket();
            detail = "cannot set up TLS for " + host;
            co_return dispatch_errc::tls_handshake_failed;
        }
        tls_inbox.clear();
        transport.descriptor = static_cast<int>(socket.native_handle());
        BIO_set_data(bio, &transport);
        BIO_set_init(bio, 1);
        SSL_set_bio(ssl, bio, bio);
        SSL_set_app_data(ssl, client.get());   // for the new-session callback
        const bool ip_literal = is_ip_literal(host);
        if (!ip_literal) SSL_set_tlsext_host_name(ssl, host.c_str());   // SNI takes names only
        // OpenSSL checks the name against the certificate while it verifies the chain.
        if (!options.insecure) {
            if (ip_literal) X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
            else SSL_set1_host(ssl, host.c_str());
        }
        if (client->session != nullptr) SSL_set_session(ssl, client->session);
        const auto handshake_ec = co_await tls_call([ssl] { return SSL_connect(ssl); });
        if (!handshake_ec) co_return handshake_ec;
        close_socket();
        const long verify = SSL_get_verify_result(ssl);
        if (verify != X509_V_OK || ERR_GET_REASON(handshake_ec.value()) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
            detail = std::string("server certificate rejected for ") + host + ": " +
                     (verify != X509_V_OK ? X509_verify_cert_error_string(verify) : "host name mismatch");
            co_return dispatch_errc::tls_verify_failed;
        }
        detail = "TLS handshake with " + host + " failed: " + handshake_ec.message();
        co_return is_timeout(handshake_ec) ? dispatch_errc::connect_timeout : dispatch_errc::tls_handshake_failed;
    }

    net::awaitable<void> exchange(http_answer& answer) {
        const auto started = std::chrono::steady_clock::now();
        timeout.arm(started + client->options.timeout);
        if (const auto write_ec = co_await write_request()) {
            // Not all of the request reached the socket: the server cannot have acted on it.
            close_socket();
            detail = "writing the request failed: " + write_ec.message();
            answer.ec = answer.reused_connection ? dispatch_errc::stale_connection : dispatch_errc::connect_failed;
            co_return;
        }
        response_reader reader(body, header_values);
        const auto read_ec = co_await read_response(reader);
        answer.elapsed = std::chrono::steady_clock::now() - started;
        timeout.disarm();
        if (read_ec) {
            close_socket();
            if (answer.reused_connection && !reader.got_some() && read_ec == net::error::connection_reset) {
                // The stale-connection race: the server closed the kept-alive
                // connection while the request was on its way. A reset, not a
                // clean close, says it left the request unread, so it cannot
                // have acted on it: the request goes again on a new connection.
                ++stale;
                detail = "the server reset the kept-alive connection before answering: " + read_ec.message();
                answer.ec = dispatch_errc::stale_connection;
                co_return;
            }
            detail = "no answer after the request was sent: " + read_ec.message();
            if (is_timeout(read_ec)) answer.ec = dispatch_errc::response_timeout;
            else if (read_ec.category() == http::make_error_code(http::error::end_of_stream).category() &&
                     read_ec != http::error::end_of_stream && read_ec != http::error::partial_message)
                answer.ec = dispatch_errc::bad_http_response;
            else answer.ec = dispatch_errc::connection_lost;
            co_return;
        }
        answer.status = reader.status();
        answer.body = padded(body);
        answer.headers = reader.headers();
        if (!reader.keep_alive()) {
            close_socket();
            co_return;
        }
        if (const auto keep_alive = reader.keep_alive_timeout()) {
            // Leave a margin so that we retire the connection before the server does.
            idle_deadline = std::chrono::steady_clock::now() + *keep_alive * 3 / 4;
        }
    }
};

connection::connection(net::any_io_executor executor, const http_client& client)
    : impl_(std::make_unique<impl>(std::move(executor), client.state())) {}
connection::~connection() = default;

net::awaitable<http_answer> connection::open() {
    auto& self = *impl_;
    http_answer answer;
    // A kept-alive connection is checked by send, right before it is written
    // to: the wait for a grant may be long enough for the server to close it.
    if (!self.open && (answer.ec = co_await self.make_connection())) answer.detail = self.detail;
    co_return answer;
}

bool connection::is_open() const noexcept { return impl_->open; }

net::awaitable<http_answer> connection::send(const http_request& request) {
    auto& self = *impl_;
    http_answer answer;
    self.drop_if_stale();
    if (!self.open && (answer.ec = co_await self.make_connection())) {
        answer.detail = self.detail;
        co_return answer;
    }
    answer.reused_connection = self.exchanges++ > 0;
    self.build_request(request);
    co_await self.exchange(answer);
    self.probe.end();
    if (answer.ec) answer.detail = self.detail;
    co_return answer;
}

void connection::close() noexcept { impl_->close_socket(); }

std::uint64_t connection::stale_reconnects() const noexcept { return impl_->stale; }

} // namespace invent_dispatch
