// The state the pool's connections share: session probe and resumption, the
// single-flight address lookup, the constant part of every request head.
#include "invent_dispatch/version.hpp"
#include "pool_resources.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/errc.hpp>
#include <mutex>
#include <system_error>
#include <thread>
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

connection_pool::resources::resources(client_options opts) : options(std::move(opts)) {
    if (options.endpoint.tls) tls.emplace(make_tls_context(options));
    fixed_headers = " HTTP/1.1\r\nHost: " + host_header(options.endpoint) + "\r\nAuthorization: Bearer " +
                    options.token +
                    "\r\nAccept: application/json\r\nAccept-Encoding: identity"
                    "\r\nUser-Agent: invent-dispatch/" INVENT_DISPATCH_VERSION "\r\n";
}

bool connection_pool::resources::start_probe(const net::any_io_executor& executor) {
    if (!tls || probe != probe_state::not_started) return false;
    probe = probe_state::in_flight;
    session_ready.emplace(executor, std::chrono::steady_clock::now() + max_session_wait);
    return true;
}

void connection_pool::resources::end_probe() {
    probe = probe_state::over;
    session_ready->cancel();
}

net::awaitable<void> connection_pool::resources::wait_for_probe() {
    if (probe != probe_state::in_flight) co_return;
    co_await session_ready->async_wait(use_nothrow);
}

bool connection_pool::resources::keep_session(SSL_SESSION* fresh) {
    if (!SSL_SESSION_is_resumable(fresh)) return false;
    SSL_SESSION_free(session);
    session = fresh;
    if (probe == probe_state::in_flight) end_probe();
    return true;
}

// A lookup runs on a thread of its own: getaddrinfo cannot be interrupted,
// and Asio's resolver would hold the io_context (and its shutdown) until it
// returned, so a lookup that never answers would outlast --timeout and
// --deadline (issue 12). A thread still waiting ends with the process.
net::awaitable<boost::system::error_code> connection_pool::resources::addresses(net::cancellation_slot give_up,
                                                                                tcp::resolver::results_type& out) {
    const auto executor = co_await net::this_coro::executor;
    if (!lookup.in_flight && std::chrono::steady_clock::now() < lookup.valid_until) {
        out = lookup.results;
        co_return boost::system::error_code{};
    }
    if (!lookup.in_flight) {
        lookup.in_flight = true;
        lookup.done.emplace(executor, std::chrono::steady_clock::time_point::max());
        lookup.thread = std::make_shared<lookup_thread>();
        lookup.thread->pool = this;
        // Through a proxy, the proxy's addresses: the API's name is resolved by the proxy.
        std::string host = options.proxy ? options.proxy->host : options.endpoint.host;
        std::string port = options.proxy ? options.proxy->port : options.endpoint.port;
        bool started = true;
        try {
            std::thread([executor, thread = lookup.thread, host = std::move(host), port = std::move(port)] {
                net::io_context own;
                tcp::resolver resolver(own);
                boost::system::error_code ec;
                auto results = resolver.resolve(host, port, ec);
                const std::lock_guard lock(thread->mutex);
                if (thread->pool == nullptr) return;
                net::post(executor, [thread, ec, results = std::move(results)] {
                    if (thread->pool != nullptr) thread->pool->lookup_ended(ec, results);
                });
            }).detach();
        } catch (const std::system_error&) {
            started = false;
        }
        if (!started) {   // no thread (EAGAIN): no one would end this lookup
            lookup_ended(make_error_code(boost::system::errc::resource_unavailable_try_again), {});
            co_return lookup.error;
        }
    }
    const auto ticket = lookup.finished;
    co_await lookup.done->async_wait(net::bind_cancellation_slot(give_up, use_nothrow));
    give_up.clear();   // the handler left there points into this timer, which the next lookup rebuilds
    if (lookup.finished == ticket) co_return net::error::operation_aborted;   // given up, the lookup goes on
    out = lookup.results;
    co_return lookup.error;
}

void connection_pool::resources::lookup_ended(const boost::system::error_code& ec,
                                              tcp::resolver::results_type results) {
    lookup.in_flight = false;
    ++lookup.finished;
    lookup.error = ec;
    lookup.results = ec ? tcp::resolver::results_type{} : std::move(results);
    lookup.valid_until = ec ? std::chrono::steady_clock::time_point{} : std::chrono::steady_clock::now() + address_ttl;
    lookup.done->cancel();
}

connection_pool::connection_pool(client_options options)
    : resources_(std::make_shared<resources>(std::move(options))) {}
connection_pool::~connection_pool() = default;
const client_options& connection_pool::options() const noexcept {
    return resources_->options;
}

}   // namespace invent_dispatch
