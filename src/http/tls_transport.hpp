#pragma once
// TLS over a BIO of our own (private to src/http): Asio reads the socket into
// the inbox, OpenSSL decrypts from there and writes to the socket itself.
// That saves asio::ssl::stream's memory-BIO pair (one more copy of every
// record and an engine state machine: about 8 % of a request's CPU in the
// profile), and a wait for readiness is Asio's read itself.
#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <memory>

#include <openssl/ssl.h>

#include "invent_dispatch/openssl_ptr.hpp"

namespace invent_dispatch::tls {

// The bytes read from the socket that OpenSSL has not taken yet. OpenSSL
// takes all there is before it asks for more (a record larger than what one
// read brought is assembled in its own buffer), so a read always finds the
// inbox empty and has all of it.
class inbox {
public:
    static constexpr std::size_t capacity = 16 * 1024;

    std::size_t take(char* out, std::size_t size) noexcept;
    // Where the next read of the socket goes; filled(n) once it came.
    boost::asio::mutable_buffer room();
    void filled(std::size_t n) noexcept { end_ = n; }
    void clear() noexcept { begin_ = end_ = 0; }
    bool empty() const noexcept { return begin_ == end_; }

private:
    std::unique_ptr<char[]> bytes_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
};

// OpenSSL's transport for a connection: it reads records from the inbox and
// writes straight to the socket (send with MSG_NOSIGNAL).
struct bio_transport {
    inbox* in = nullptr;
    int descriptor = -1;

    static BIO_METHOD* method();
};

// What a failed SSL call (SSL_get_error's verdict) means as an error code.
// Called right after the call, while errno and OpenSSL's error queue hold its
// cause. SSL_ERROR_ZERO_RETURN (the server's close_notify) is eof.
boost::system::error_code failure(int verdict);

}   // namespace invent_dispatch::tls
