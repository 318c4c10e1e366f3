// The state the pool's connections share: session probe and resumption, the
// single-flight address lookup, the constant part of every request head.
#include "client_state.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <utility>

namespace invent_dispatch {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);

std::string host_header(const api_endpoint& endpoint) {
    std::string host = endpoint.host.find(':') != std::string::npos ? "[" + endpoint.host + "]" : endpoint.host;
    const bool default_port = (endpoint.tls && endpoint.port == "443") || (!endpoint.tls && endpoint.port == "80");
    if (!default_port) host += ":" + endpoint.port;
    return host;
}

}   // namespace

http_client::shared::shared(client_options opts) : options(std::move(opts)) {
    if (options.endpoint.tls) tls.emplace(make_tls_context(options));
    fixed_headers = " HTTP/1.1\r\nHost: " + host_header(options.endpoint) + "\r\nAuthorization: Bearer " +
                    options.token +
                    "\r\nAccept: application/json\r\nAccept-Encoding: identity"
                    "\r\nUser-Agent: invent-dispatch/" INVENT_DISPATCH_VERSION "\r\n";
}

bool http_client::shared::start_probe(const net::any_io_executor& executor) {
    if (!tls || probe != probe_state::not_started) return false;
    probe = probe_state::in_flight;
    session_ready.emplace(executor, std::chrono::steady_clock::now() + max_session_wait);
    return true;
}

void http_client::shared::end_probe() {
    probe = probe_state::over;
    session_ready->cancel();
}

net::awaitable<void> http_client::shared::wait_for_probe() {
    if (probe != probe_state::in_flight) co_return;
    co_await session_ready->async_wait(use_nothrow);
}

bool http_client::shared::keep_session(SSL_SESSION* fresh) {
    if (!SSL_SESSION_is_resumable(fresh)) return false;
    SSL_SESSION_free(session);
    session = fresh;
    if (probe == probe_state::in_flight) end_probe();
    return true;
}

net::awaitable<boost::system::error_code> http_client::shared::addresses(tcp::resolver& resolver,
                                                                         tcp::resolver::results_type& out) {
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
    // Through a proxy, the proxy's addresses: the API's name is resolved by the proxy.
    const auto& host = options.proxy ? options.proxy->host : options.endpoint.host;
    const auto& port = options.proxy ? options.proxy->port : options.endpoint.port;
    auto [ec, results] = co_await resolver.async_resolve(host, port, use_nothrow);
    lookup.in_flight = false;
    lookup.error = ec;
    lookup.results = ec ? tcp::resolver::results_type{} : results;
    lookup.valid_until = ec ? std::chrono::steady_clock::time_point{} : std::chrono::steady_clock::now() + address_ttl;
    lookup.done->cancel();
    out = lookup.results;
    co_return ec;
}

http_client::http_client(client_options options) : shared_(std::make_shared<shared>(std::move(options))) {}
http_client::~http_client() = default;
const client_options& http_client::options() const noexcept {
    return shared_->options;
}

}   // namespace invent_dispatch
