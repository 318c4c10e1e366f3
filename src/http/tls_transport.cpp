#include "tls_transport.hpp"

#include <algorithm>
#include <boost/asio/error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <sys/socket.h>

#include <openssl/err.h>

#include "invent_dispatch/connection.hpp"
#include "pool_resources.hpp"

namespace invent_dispatch {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;

namespace tls {

std::size_t inbox::take(char* out, std::size_t size) noexcept {
    const auto n = std::min(size, end_ - begin_);
    if (n == 0) return 0;   // and no bytes_ yet before the first read
    std::memcpy(out, bytes_.get() + begin_, n);
    begin_ += n;
    return n;
}

net::mutable_buffer inbox::room() {
    if (!bytes_) bytes_ = std::make_unique<char[]>(capacity);   // TLS connections only
    begin_ = end_ = 0;
    return {bytes_.get(), capacity};
}

namespace {

bio_transport& of(BIO* bio) {
    return *static_cast<bio_transport*>(BIO_get_data(bio));
}

int read(BIO* bio, char* out, std::size_t size, std::size_t* got) {
    BIO_clear_retry_flags(bio);
    *got = of(bio).in->take(out, size);
    if (*got != 0) return 1;
    BIO_set_retry_read(bio);   // the caller reads the socket into the inbox and calls again
    return 0;
}

int write(BIO* bio, const char* data, std::size_t size, std::size_t* written) {
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

long control(BIO*, int command, long, void*) {
    return command == BIO_CTRL_FLUSH ? 1 : 0;
}

}   // namespace

BIO_METHOD* bio_transport::method() {
    static BIO_METHOD* const made = [] {
        BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "invent-dispatch");
        if (m == nullptr || BIO_meth_set_read_ex(m, &read) != 1 || BIO_meth_set_write_ex(m, &write) != 1 ||
            BIO_meth_set_ctrl(m, &control) != 1)
            throw std::runtime_error("cannot set up OpenSSL's transport for TLS");
        return m;
    }();
    return made;
}

boost::system::error_code failure(int verdict) {
    const int sys_error = errno;
    if (verdict == SSL_ERROR_ZERO_RETURN) return net::error::eof;   // the server's close_notify
    if (const unsigned long queued = ERR_get_error()) return {static_cast<int>(queued), net::error::get_ssl_category()};
    // SSL_ERROR_SYSCALL: sending failed, and errno says why.
    return {sys_error != 0 ? sys_error : EIO, boost::system::system_category()};
}

}   // namespace tls

ssl::context make_tls_context(const client_options& options) {
    // tls_client + a 1.2 floor: tlsv12_client would pin exactly 1.2.
    ssl::context context(ssl::context::tls_client);
    SSL_CTX* native = context.native_handle();
    if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1)
        throw std::runtime_error("cannot require TLS 1.2 or later");
    context.set_default_verify_paths();
    if (options.ca_file) {
        boost::system::error_code ec;
        context.load_verify_file(*options.ca_file, ec);
        if (ec) throw std::runtime_error(*options.ca_file + ": cannot use as a CA file: " + ec.message());
    }
    if (!options.extra_ca_pem.empty()) context.add_certificate_authority(net::buffer(options.extra_ca_pem));
    context.set_verify_mode(options.insecure ? ssl::verify_none : ssl::verify_peer);
    // Sessions come to the client through the callback, for the pool to resume.
    SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(native, [](SSL* ssl, SSL_SESSION* session) -> int {
        auto* pool = static_cast<connection_pool::resources*>(SSL_get_app_data(ssl));
        return pool != nullptr && pool->keep_session(session) ? 1 : 0;
    });
    return context;
}

}   // namespace invent_dispatch
