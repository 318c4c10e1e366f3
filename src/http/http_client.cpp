#include "invent_dispatch/http_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <charconv>
#include <fstream>
#include <poll.h>
#include <sstream>
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
    // The first TLS connection is the session probe: until its first answer
    // brings a session ticket (or max_session_wait passes) other connections
    // wait instead of making full handshakes of their own. Verifying the
    // server's certificate chain is most of a handshake's cost (OpenSSL 3.0:
    // ~4 of ~5.5 M instructions), and a resumed handshake skips it, so
    // hundreds of connections come up several times faster.
    enum class probe_state { not_started, in_flight, over } probe = probe_state::not_started;
    std::optional<net::steady_timer> session_ready;   // fires at the bound; cancelled when the probe ends

    explicit shared(client_options opts) : options(std::move(opts)) {
        if (options.endpoint.tls) tls.emplace(make_tls_context(options));
        fixed_headers = " HTTP/1.1\r\nHost: " + host_header(options.endpoint) +
                        "\r\nAuthorization: Bearer " + options.token +
                        "\r\nContent-Type: application/json\r\nAccept: application/json"
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

    void keep_session(SSL* ssl) {
        SSL_SESSION* fresh = SSL_get1_session(ssl);
        if (fresh == nullptr) return;
        if (!SSL_SESSION_is_resumable(fresh)) {
            SSL_SESSION_free(fresh);
            return;
        }
        SSL_SESSION_free(session);
        session = fresh;
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
    return context;
}

http_client::http_client(client_options options)
    : shared_(std::make_shared<shared>(std::move(options))) {}
http_client::~http_client() = default;
const client_options& http_client::options() const noexcept { return shared_->options; }

namespace {

// Reads one response keeping only what the dispatcher needs: the status,
// Retry-After, keep-alive, and the body in a reused, simdjson-padded buffer.
class response_reader final : public http::basic_parser<false> {
public:
    response_reader(std::string& body, std::string& retry_after)
        : body_(body), retry_after_(retry_after) {
        body_.clear();
        retry_after_.clear();
        body_limit(max_body_bytes);
    }
    int status() const noexcept { return status_; }
    std::optional<std::chrono::seconds> keep_alive_timeout() const noexcept { return keep_alive_timeout_; }

private:
    void on_request_impl(http::verb, beast::string_view, beast::string_view, int,
                         beast::error_code&) override {}
    void on_response_impl(int code, beast::string_view, int, beast::error_code&) override {
        status_ = code;
    }
    void on_field_impl(http::field name, beast::string_view, beast::string_view value,
                       beast::error_code&) override {
        if (name == http::field::retry_after) {
            retry_after_.assign(value.data(), value.size());
        } else if (name == http::field::keep_alive) {
            // "timeout=5, max=100": the server closes idle connections after 5 s.
            const auto at = value.find("timeout=");
            if (at == beast::string_view::npos) return;
            unsigned seconds = 0;
            const char* first = value.data() + at + 8;
            if (std::from_chars(first, value.data() + value.size(), seconds).ec == std::errc{})
                keep_alive_timeout_ = std::chrono::seconds(seconds);
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
    std::string& retry_after_;
    int status_ = 0;
    std::optional<std::chrono::seconds> keep_alive_timeout_;
};

bool is_timeout(const boost::system::error_code& ec) {
    return ec == beast::error::timeout;
}

// Held by the connection that probes for the TLS session: ended by its
// first answer (after keep_session), a failure, or the connection's end.
struct probe_role {
    http_client::shared* client = nullptr;
    void end() noexcept {
        if (client != nullptr) std::exchange(client, nullptr)->end_probe();
    }
    ~probe_role() { end(); }
};

} // namespace

struct connection::impl {
    impl(net::any_io_executor ex, std::shared_ptr<http_client::shared> state)
        : executor(std::move(ex)), client(std::move(state)), resolver(executor) {
        // Beast reads max(512, free capacity) bytes at a time: without room
        // reserved up front a 5 KB answer costs ten recvmsg calls, not one.
        read_buffer.reserve(read_buffer_capacity);
    }
    static constexpr std::size_t read_buffer_capacity = 16 * 1024;

    net::any_io_executor executor;
    std::shared_ptr<http_client::shared> client;
    tcp::resolver resolver;
    std::optional<ssl::stream<beast::tcp_stream>> tls;
    std::optional<beast::tcp_stream> plain;
    beast::flat_buffer read_buffer;
    std::string request_bytes;
    std::string body;
    std::string retry_after;
    std::string detail;
    bool open = false;
    unsigned exchanges = 0;   // requests this connection carried since it was made
    probe_role probe;   // held while this connection is the session probe
    bool session_kept = false;
    std::chrono::steady_clock::time_point idle_deadline = std::chrono::steady_clock::time_point::max();
    std::uint64_t stale = 0;

    beast::tcp_stream& lowest() { return tls ? tls->next_layer() : *plain; }

    void close_socket() noexcept {
        probe.end();   // a closed connection brings no session
        if (!open) return;
        open = false;
        boost::system::error_code ignored;
        lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
        lowest().socket().close(ignored);
    }

    // A kept-alive connection is usable if the server has not closed it (FIN
    // seen by poll's RDHUP) and its advertised idle timeout has not run out.
    // Checking before writing avoids sending into a closing connection, where
    // an unanswered request could not be told from one the server processed.
    bool still_open() {
        if (std::chrono::steady_clock::now() >= idle_deadline) return false;
        pollfd probe{lowest().socket().native_handle(), POLLIN | POLLRDHUP, 0};
        if (::poll(&probe, 1, 0) < 0) return false;
        if (probe.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) return false;
        // Idle plain HTTP has nothing to say; TLS 1.3 may have sent session tickets.
        return !(probe.revents & POLLIN) || tls.has_value();
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

    void build_request(const chat_request& request) {
        const auto& shared = *client;
        request_bytes.clear();
        request_bytes += "POST ";
        request_bytes += shared.options.endpoint.base_path;
        append_chat_path(request_bytes, request.key);
        request_bytes += shared.fixed_headers;
        request_bytes += "Idempotency-Key: ";
        request_bytes += request.idempotency_key;
        request_bytes += "\r\nContent-Length: ";
        char digits[24];
        const auto end = std::to_chars(digits, digits + sizeof digits, request.body.size()).ptr;
        request_bytes.append(digits, end);
        request_bytes += "\r\n\r\n";
        request_bytes += request.body;
    }

    net::awaitable<boost::system::error_code> connect() {
        const auto& options = client->options;
        const auto& endpoint = options.endpoint;
        auto [resolve_ec, results] = co_await resolver.async_resolve(endpoint.host, endpoint.port, use_nothrow);
        if (resolve_ec) {
            detail = "cannot resolve " + endpoint.host + ": " + resolve_ec.message();
            co_return dispatch_errc::connect_failed;
        }
        if (client->tls) tls.emplace(executor, *client->tls);
        else plain.emplace(executor);
        read_buffer.clear();
        lowest().expires_after(options.timeout);
        auto [connect_ec, peer] = co_await lowest().async_connect(results, use_nothrow);
        if (connect_ec) {
            detail = "cannot connect to " + endpoint.host + ":" + endpoint.port + ": " + connect_ec.message();
            co_return is_timeout(connect_ec) ? dispatch_errc::connect_timeout : dispatch_errc::connect_failed;
        }
        open = true;
        session_kept = false;
        idle_deadline = std::chrono::steady_clock::time_point::max();
        lowest().socket().set_option(tcp::no_delay(true));
        if (tls) {
            SSL* ssl = tls->native_handle();
            if (!is_ip_literal(endpoint.host)) SSL_set_tlsext_host_name(ssl, endpoint.host.c_str());
            if (!options.insecure) tls->set_verify_callback(ssl::host_name_verification(endpoint.host));
            if (client->session != nullptr) SSL_set_session(ssl, client->session);
            auto [handshake_ec] = co_await tls->async_handshake(ssl::stream_base::client, use_nothrow);
            if (handshake_ec) {
                close_socket();
                const long verify = SSL_get_verify_result(ssl);
                if (verify != X509_V_OK || ERR_GET_REASON(handshake_ec.value()) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
                    detail = std::string("server certificate rejected for ") + endpoint.host + ": " +
                             (verify != X509_V_OK ? X509_verify_cert_error_string(verify) : "host name mismatch");
                    co_return dispatch_errc::tls_verify_failed;
                }
                detail = "TLS handshake with " + endpoint.host + " failed: " + handshake_ec.message();
                co_return is_timeout(handshake_ec) ? dispatch_errc::connect_timeout
                                                   : dispatch_errc::tls_handshake_failed;
            }
        }
        co_return boost::system::error_code{};
    }

    template <class Stream>
    net::awaitable<void> exchange(Stream& stream, http_answer& answer) {
        const auto started = std::chrono::steady_clock::now();
        auto [write_ec, written] = co_await net::async_write(stream, net::buffer(request_bytes), use_nothrow);
        if (write_ec) {
            // Not all of the request reached the socket: the server cannot have acted on it.
            close_socket();
            detail = "writing the request failed: " + write_ec.message();
            answer.ec = answer.reused_connection ? dispatch_errc::stale_connection : dispatch_errc::connect_failed;
            co_return;
        }
        response_reader reader(body, retry_after);
        auto [read_ec, read] = co_await http::async_read(stream, read_buffer, reader, use_nothrow);
        answer.elapsed = std::chrono::steady_clock::now() - started;
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
        answer.retry_after = retry_after;
        if (!reader.keep_alive()) {
            close_socket();
            co_return;
        }
        lowest().expires_never();
        if (auto timeout = reader.keep_alive_timeout()) {
            // Leave a margin so that we retire the connection before the server does.
            idle_deadline = std::chrono::steady_clock::now() + *timeout * 3 / 4;
        }
        if (tls && !session_kept) {
            client->keep_session(tls->native_handle());
            session_kept = true;
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

net::awaitable<http_answer> connection::send(const chat_request& request) {
    auto& self = *impl_;
    http_answer answer;
    self.drop_if_stale();
    if (!self.open && (answer.ec = co_await self.make_connection())) {
        answer.detail = self.detail;
        co_return answer;
    }
    answer.reused_connection = self.exchanges++ > 0;
    self.build_request(request);
    self.lowest().expires_after(self.client->options.timeout);
    if (self.tls) co_await self.exchange(*self.tls, answer);
    else co_await self.exchange(*self.plain, answer);
    self.probe.end();
    if (answer.ec) answer.detail = self.detail;
    co_return answer;
}

void connection::close() noexcept { impl_->close_socket(); }

std::uint64_t connection::stale_reconnects() const noexcept { return impl_->stale; }

} // namespace invent_dispatch
