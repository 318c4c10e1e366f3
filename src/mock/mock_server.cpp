// The mock's sockets: an acceptor and one coroutine per connection on a
// private io_context and thread. What to answer is mock_api's business; this
// file reads, waits, writes and closes, the same way over TLS and plain TCP.
#include "invent_dispatch/logging.hpp"
#include "invent_dispatch/mock.hpp"
#include "mock_api.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <fstream>
#include <iostream>
#include <list>
#include <thread>

namespace invent_dispatch {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using boost::system::error_code;

constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);
constexpr std::uint64_t body_limit = 1024 * 1024;
// Bounds on a peer that stalls; the mock must not hold a coroutine forever.
constexpr auto handshake_timeout = std::chrono::seconds(10);
constexpr auto write_timeout = std::chrono::seconds(30);
constexpr auto request_timeout = std::chrono::seconds(30);   // once a request has begun to arrive
constexpr std::size_t first_read_size = 4096;
constexpr auto shutdown_timeout = std::chrono::seconds(2);

using plain_stream = beast::tcp_stream;
using tls_stream = ssl::stream<beast::tcp_stream>;

// What stop() must reach in each live connection: closing the socket ends
// any read or write, cancelling the timer ends a latency wait.
struct live_connection {
    tcp::socket* socket;
    net::steady_timer* timer;
};

struct live_registration {
    std::list<live_connection>& list;
    std::list<live_connection>::iterator entry;
    ~live_registration() { list.erase(entry); }
};

// The status to answer a request Beast could not read with, or none when
// the peer simply left (or went idle, or we are stopping): then just close.
std::optional<http::status> unreadable_status(const error_code& ec) {
    if (ec == http::error::body_limit) return http::status::payload_too_large;
    if (ec == http::error::header_limit) return http::status::request_header_fields_too_large;
    if (ec == http::error::end_of_stream || ec == http::error::partial_message) return std::nullopt;
    if (ec.category() == make_error_code(http::error::bad_method).category()) return http::status::bad_request;
    return std::nullopt;
}

// Opening and closing are all that differ between the two streams.
net::awaitable<bool> open_session(plain_stream&) {
    co_return true;
}

net::awaitable<bool> open_session(tls_stream& stream) {
    stream.next_layer().expires_after(handshake_timeout);
    const auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, use_nothrow);
    co_return !ec;
}

bool resumed(const plain_stream&) {
    return false;
}
bool resumed(tls_stream& stream) {
    return SSL_session_reused(stream.native_handle()) == 1;
}

net::awaitable<void> close_session(plain_stream& stream) {
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    co_return;
}

// close_notify, so a client sees a clean end rather than a truncated stream.
net::awaitable<void> close_session(tls_stream& stream) {
    stream.next_layer().expires_after(shutdown_timeout);
    co_await stream.async_shutdown(use_nothrow);
}

}   // namespace

struct mock_server::impl {
    explicit impl(mock_config c);
    ~impl();

    net::awaitable<void> accept_loop();
    net::awaitable<void> run_connection(tcp::socket socket);
    template <class Stream>
    net::awaitable<void> run_session(Stream& stream);
    template <class Stream>
    net::awaitable<bool> serve(Stream& stream, net::steady_timer& timer);
    void stop();

    const mock_config config;
    generated_certificates certificates;   // empty when plain
    ssl::context tls{ssl::context::tls_server};
    mock_detail::mock_api api{config};
    const std::string keep_alive_value;   // "timeout=N", or empty without idle_timeout
    net::io_context io{1};
    tcp::acceptor acceptor{io};
    tcp::endpoint bound;   // read by other threads: set before the io thread starts
    std::list<live_connection> live;   // touched only on the io thread
    bool stopping = false;   // likewise
    std::thread thread;
};

namespace {

std::string make_keep_alive_value(std::chrono::milliseconds idle_timeout) {
    if (idle_timeout.count() <= 0) return {};
    const auto seconds =
        std::max<std::int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(idle_timeout).count());
    return "timeout=" + std::to_string(seconds);
}

}   // namespace

mock_server::impl::impl(mock_config c)
    : config(std::move(c)),
      keep_alive_value(make_keep_alive_value(config.idle_timeout)) {
    const auto address = net::ip::make_address(config.host);
    // The mock accepts a well-known demo token and injects faults: never
    // offer it beyond this machine.
    if (!address.is_loopback()) throw std::invalid_argument("the mock listens only on loopback, not " + config.host);

    if (!config.plain) {
        certificates =
            config.certificates ? *config.certificates : generate_certificates({"localhost"}, {"127.0.0.1", "::1"});
        SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
        tls.use_certificate_chain(net::buffer(certificates.server_cert_pem));
        tls.use_private_key(net::buffer(certificates.server_key_pem), ssl::context::pem);
    }

    const tcp::endpoint endpoint{address, config.port};
    error_code ec;
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec)
        throw std::runtime_error("cannot listen on " + config.host + ":" + std::to_string(config.port) + ": " +
                                 ec.message());
    bound = acceptor.local_endpoint();

    net::co_spawn(io, accept_loop(), log_escaped_exception{"mock: accept loop"});
    thread = std::thread([this] { io.run(); });
}

// Closing everything lets every coroutine finish on its own; run() then
// returns for want of work, and nothing is left suspended.
mock_server::impl::~impl() {
    net::post(io, [this] { stop(); });
    thread.join();
}

void mock_server::impl::stop() {
    stopping = true;
    error_code ignored;
    acceptor.close(ignored);
    for (const auto& connection : live) {
        connection.socket->close(ignored);
        connection.timer->cancel();
    }
}

net::awaitable<void> mock_server::impl::accept_loop() {
    net::steady_timer backoff(io);
    while (!stopping) {
        auto [ec, socket] = co_await acceptor.async_accept(use_nothrow);
        if (stopping || ec == net::error::operation_aborted) co_return;
        if (ec) {
            // Out of descriptors or similar: breathe instead of spinning.
            spdlog::warn("mock: accept failed: {}", ec.message());
            backoff.expires_after(std::chrono::milliseconds(50));
            co_await backoff.async_wait(use_nothrow);
            continue;
        }
        net::co_spawn(io, run_connection(std::move(socket)), log_escaped_exception{"mock: connection task"});
    }
}

net::awaitable<void> mock_server::impl::run_connection(tcp::socket socket) {
    if (stopping) co_return;   // stop() ran between accept and this start
    error_code ignored;
    if (!api.accept_connection()) {
        // Before the TLS handshake, so a TLS client's handshake fails and it
        // knows for certain that nothing was sent (safe to retry). A plain
        // client may already have written its request; it sees a reset.
        socket.close(ignored);
        co_return;
    }
    socket.set_option(tcp::no_delay(true), ignored);
    if (config.plain) {
        plain_stream stream(std::move(socket));
        co_await run_session(stream);
    } else {
        tls_stream stream(std::move(socket), tls);
        co_await run_session(stream);
    }
}

template <class Stream>
net::awaitable<void> mock_server::impl::run_session(Stream& stream) {
    net::steady_timer timer(io);
    // Registered before the first suspension, so stop() always finds it.
    auto& socket = beast::get_lowest_layer(stream).socket();
    const live_registration registration{live, live.insert(live.end(), {&socket, &timer})};
    if (!co_await open_session(stream)) co_return;
    if (resumed(stream)) api.note_resumed_session();
    if (co_await serve(stream, timer) && !stopping) co_await close_session(stream);
}

// The keep-alive loop. Returns true to end politely (Connection: close was
// sent), false to close at once (peer gone, stop, or drop_before_response).
template <class Stream>
net::awaitable<bool> mock_server::impl::serve(Stream& stream, net::steady_timer& timer) {
    beast::flat_buffer buffer;
    simdjson::dom::parser json;
    auto& transport = beast::get_lowest_layer(stream);
    for (unsigned served = 1; !stopping; ++served) {
        // tcp_stream's expiry covers every operation started after it, so it
        // is set before each phase (STYLE.md). The idle timeout covers only
        // the wait for a request's first bytes: a request that has begun to
        // arrive is read whole and answered, so a client never loses one the
        // mock began to take in, and an idle close leaves any late bytes
        // unread (the client sees a reset, not a clean end).
        if (config.idle_timeout.count() > 0) {
            if (buffer.size() == 0) {
                transport.expires_after(config.idle_timeout);
                const auto [idle_ec, first_bytes] =
                    co_await stream.async_read_some(buffer.prepare(first_read_size), use_nothrow);
                if (idle_ec) {
                    if (idle_ec == beast::error::timeout) api.note_idle_close();
                    co_return false;
                }
                buffer.commit(first_bytes);
            }
            transport.expires_after(request_timeout);
        } else {
            transport.expires_never();
        }
        http::request_parser<http::string_body> parser;
        parser.body_limit(body_limit);
        const auto [read_ec, read_bytes] = co_await http::async_read(stream, buffer, parser, use_nothrow);

        mock_detail::reply reply;
        bool keep_alive = false;
        if (read_ec) {
            const auto status = unreadable_status(read_ec);
            if (!status || stopping) co_return false;
            // The stream cannot be resynchronised after this: answer, then close.
            reply = api.reject_unreadable(*status, read_ec.message());
        } else {
            auto request = parser.release();
            reply = api.handle(request, json);
            keep_alive = request.keep_alive();
        }
        if (reply.drop || stopping) co_return false;

        if (reply.delay.count() > 0) {
            timer.expires_after(reply.delay);
            const auto [wait_ec] = co_await timer.async_wait(use_nothrow);
            if (wait_ec || stopping) co_return false;
        }
        const bool last = !keep_alive || served == config.max_requests_per_connection;
        reply.message.keep_alive(!last);
        if (!last && !keep_alive_value.empty()) reply.message.set(http::field::keep_alive, keep_alive_value);
        reply.message.prepare_payload();
        transport.expires_after(write_timeout);
        const auto [write_ec, written] = co_await http::async_write(stream, reply.message, use_nothrow);
        if (write_ec) co_return false;
        if (last) co_return true;
    }
    co_return false;
}

mock_server::mock_server(mock_config config) : impl_(std::make_unique<impl>(std::move(config))) {}

mock_server::~mock_server() = default;

std::string mock_server::url() const {
    const auto address = impl_->bound.address();
    const auto host = address.is_v6() ? fmt::format("[{}]", address.to_string()) : address.to_string();
    return fmt::format("{}://{}:{}", impl_->config.plain ? "http" : "https", host, port());
}

std::uint16_t mock_server::port() const {
    return impl_->bound.port();
}

const std::string& mock_server::ca_pem() const {
    return impl_->certificates.ca_cert_pem;
}

std::string mock_server::stats_json() const {
    return impl_->api.stats_json();
}

int run_mock_command(const mock_config& config) {
    try {
        // Signals are caught before the URL is printed, so a supervisor that
        // waits for the URL and then sends SIGTERM always gets a clean stop.
        net::io_context signals_io{1};
        net::signal_set signals(signals_io, SIGINT, SIGTERM);
        signals.async_wait([](const error_code&, int) {});

        mock_server server(config);
        if (config.cert_out && !server.ca_pem().empty()) {
            std::ofstream out(*config.cert_out, std::ios::binary | std::ios::trunc);
            out << server.ca_pem();
            if (!out.flush()) throw std::runtime_error("cannot write " + *config.cert_out);
        }
        std::cout << "invent-dispatch mock listening on " << server.url() << std::endl;
        signals_io.run();
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "invent-dispatch mock: " << e.what() << std::endl;
        return 2;
    }
}

}   // namespace invent_dispatch
