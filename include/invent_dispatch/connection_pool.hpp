#pragma once
// The connection pool: what the connections to one API (or proxy) share. Its
// connections are keep-alive HTTP/1.1 (TLS through OpenSSL over a BIO of our
// own, or plain TCP); a worker coroutine sends through a connection handle
// (connection.hpp).
#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "invent_dispatch/client_options.hpp"

namespace invent_dispatch {

// System trust store plus the extra CAs, TLS >= 1.2, peer verification on.
// Throws std::runtime_error naming the CA file when it cannot be read.
boost::asio::ssl::context make_tls_context(const client_options& options);

// The options, the TLS context, the session kept for resumption, the
// server's addresses and the idle connections, held for every handle made
// from it.
class connection_pool {
public:
    explicit connection_pool(client_options options);
    ~connection_pool();
    const client_options& options() const noexcept;

    struct resources;   // defined where connections use it (src/http/pool_resources.hpp)
    const std::shared_ptr<resources>& shared_resources() const noexcept { return resources_; }

private:
    std::shared_ptr<resources> resources_;
};

}   // namespace invent_dispatch
