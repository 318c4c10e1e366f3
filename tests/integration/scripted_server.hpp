#pragma once
// A scripted byte-level HTTP server for the integration tests: raw POSIX
// sockets (and OpenSSL for TLS), no HTTP library. It reads each request
// (head and Content-Length body), logs it, writes exactly the bytes the
// script gives, then does what the script says to the connection: keep it,
// close it with a FIN, with a TLS close_notify then a FIN, with a FIN only,
// or send close_notify and hold the FIN. The log is the server's own record
// of what it read, for the tests to check the journal against.
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "invent_dispatch/mock.hpp"
#include "invent_dispatch/openssl_ptr.hpp"

namespace test_support {

struct scripted_request {
    unsigned connection = 0;   // 1-based, in accept order
    std::string method;
    std::string target;
    std::string head;   // the request line and headers as they came
    std::string body;
    int answered_status = 0;   // the final status the script answered with
    // The contact id segment of a create-chat target.
    std::string contact() const {
        const auto at = target.find("/contacts/");
        if (at == std::string::npos) return {};
        const auto begin = at + 10;
        return target.substr(begin, target.find('/', begin) - begin);
    }
};

enum class after_answer {
    keep_open,
    close_fin,   // close(): a FIN (TLS: without close_notify)
    close_notify_then_fin,   // TLS: close_notify, then the FIN
    close_notify_hold,   // TLS: close_notify, the FIN held until the client closes
};

struct server_script {
    // The bytes to answer the request with; none: close without answering.
    std::function<std::string(const scripted_request&)> answer;
    after_answer after = after_answer::keep_open;
    // When set: a connection idle this long is closed this way.
    std::chrono::milliseconds idle_close{0};
    after_answer idle_how = after_answer::close_fin;
    bool tls = false;
    // With tls: the server's certificate chain and key (default: generated
    // for 127.0.0.1); ca_pem is what a client trusts.
    std::optional<invent_dispatch::generated_certificates> certificates;
};

// "HTTP/1.1 <status> X" with a Content-Length body.
inline std::string http_answer_bytes(int status, const std::string& headers, const std::string& body) {
    return "HTTP/1.1 " + std::to_string(status) + " X\r\n" + headers +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

inline std::string chat_json(const std::string& id) {
    return R"({"id":")" + id + R"(","status":"RUNNING","link":"https://x/)" + id +
           R"(","state":{"state":"OPEN"},"created_at":"2026-01-01T00:00:00Z"})";
}

// A self-signed certificate for 127.0.0.1 whose validity ended a day ago.
inline invent_dispatch::generated_certificates expired_certificate() {
    using namespace invent_dispatch;
    const key_ptr key(EVP_EC_gen("P-256"));
    const cert_ptr cert(X509_new());
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 7);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -2 * 86400);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), -86400);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1,
                               0);
    X509_set_issuer_name(cert.get(), name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    for (const char* ext : {"subjectAltName=IP:127.0.0.1", "basicConstraints=critical,CA:TRUE"}) {
        const std::string text(ext);
        const auto eq = text.find('=');
        const extension_ptr e(X509V3_EXT_conf(nullptr, &ctx, text.substr(0, eq).c_str(), text.substr(eq + 1).c_str()));
        X509_add_ext(cert.get(), e.get(), -1);
    }
    X509_sign(cert.get(), key.get(), EVP_sha256());
    const auto pem = [](auto write) {
        const bio_ptr bio(BIO_new(BIO_s_mem()));
        write(bio.get());
        char* data = nullptr;
        const long size = BIO_get_mem_data(bio.get(), &data);
        return std::string(data, static_cast<std::size_t>(size));
    };
    generated_certificates out;
    out.server_cert_pem = pem([&](BIO* b) { PEM_write_bio_X509(b, cert.get()); });
    out.ca_cert_pem = out.server_cert_pem;
    out.server_key_pem =
        pem([&](BIO* b) { PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr); });
    return out;
}

class scripted_server {
public:
    explicit scripted_server(server_script script) : script_(std::move(script)) {
        if (script_.tls) setup_tls();
        listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
        BOOST_REQUIRE(listener_ >= 0);
        const int on = 1;
        ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t size = sizeof address;
        BOOST_REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&address), size) == 0);
        BOOST_REQUIRE(::listen(listener_, 128) == 0);
        BOOST_REQUIRE(::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size) == 0);
        port_ = ntohs(address.sin_port);
        acceptor_ = std::thread([this] { accept_loop(); });
    }
    ~scripted_server() {
        stopping_ = true;
        acceptor_.join();
        for (auto& t : handlers_) t.join();
        ::close(listener_);
    }
    scripted_server(const scripted_server&) = delete;
    scripted_server& operator=(const scripted_server&) = delete;

    std::string url() const {
        return std::string(script_.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
    }
    std::string ca_pem() const { return script_.certificates ? script_.certificates->ca_cert_pem : std::string(); }
    std::vector<scripted_request> received() const {
        std::lock_guard lock(mutex_);
        return log_;
    }
    unsigned connections() const { return accepted_.load(); }

private:
    void setup_tls() {
        if (!script_.certificates)
            script_.certificates = invent_dispatch::generate_certificates({"localhost"}, {"127.0.0.1"});
        context_.reset(SSL_CTX_new(TLS_server_method()));
        const invent_dispatch::bio_ptr cert_bio(BIO_new_mem_buf(script_.certificates->server_cert_pem.data(), -1));
        const invent_dispatch::cert_ptr cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
        const invent_dispatch::bio_ptr key_bio(BIO_new_mem_buf(script_.certificates->server_key_pem.data(), -1));
        const invent_dispatch::key_ptr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
        BOOST_REQUIRE(cert != nullptr && key != nullptr);
        BOOST_REQUIRE(SSL_CTX_use_certificate(context_.get(), cert.get()) == 1);
        BOOST_REQUIRE(SSL_CTX_use_PrivateKey(context_.get(), key.get()) == 1);
    }

    // Waits for the descriptor to be readable; false on stop or after `limit`.
    bool wait_readable(int fd, std::chrono::milliseconds limit) const {
        const auto until = std::chrono::steady_clock::now() + limit;
        while (!stopping_) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 20) > 0) return true;
            if (limit.count() > 0 && std::chrono::steady_clock::now() >= until) return false;
        }
        return false;
    }

    void accept_loop() {
        while (!stopping_) {
            pollfd p{listener_, POLLIN, 0};
            if (::poll(&p, 1, 20) <= 0) continue;
            const int fd = ::accept(listener_, nullptr, nullptr);
            if (fd < 0) continue;
            const unsigned number = ++accepted_;
            handlers_.emplace_back([this, fd, number] { serve(fd, number); });
        }
    }

    struct conn {
        int fd;
        SSL* ssl = nullptr;
        long recv(char* out, std::size_t size) {
            if (ssl == nullptr) return ::recv(fd, out, size, 0);
            std::size_t got = 0;
            return SSL_read_ex(ssl, out, size, &got) == 1 ? static_cast<long>(got) : -1;
        }
        bool send_all(const std::string& bytes) {
            std::size_t at = 0;
            while (at < bytes.size()) {
                long n;
                if (ssl == nullptr) {
                    n = ::send(fd, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
                } else {
                    std::size_t written = 0;
                    n = SSL_write_ex(ssl, bytes.data() + at, bytes.size() - at, &written) == 1
                            ? static_cast<long>(written)
                            : -1;
                }
                if (n <= 0) return false;
                at += static_cast<std::size_t>(n);
            }
            return true;
        }
        bool has_buffered() const { return ssl != nullptr && SSL_pending(ssl) > 0; }
    };

    // Ends the connection as `how` says.
    void end(conn& c, after_answer how) {
        if (c.ssl != nullptr && how != after_answer::close_fin) SSL_shutdown(c.ssl);   // close_notify
        if (how == after_answer::close_notify_hold) {
            // asyncio's way: the FIN waits; anything the client still sends is
            // not read as a request. Until the client closes, or the test ends.
            char sink[4096];
            while (wait_readable(c.fd, std::chrono::milliseconds(0)) && ::recv(c.fd, sink, sizeof sink, 0) > 0) {
            }
        }
        if (c.ssl != nullptr) SSL_free(c.ssl);
        ::close(c.fd);
    }

    void serve(int fd, unsigned number) {
        const int on = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
        conn c{fd};
        if (script_.tls) {
            c.ssl = SSL_new(context_.get());
            SSL_set_fd(c.ssl, fd);
            if (SSL_accept(c.ssl) != 1) {
                SSL_free(c.ssl);
                ::close(fd);
                return;
            }
        }
        std::string pending;
        char buffer[16384];
        for (;;) {
            // One request: the head, then a Content-Length body.
            std::size_t head_end;
            while ((head_end = pending.find("\r\n\r\n")) == std::string::npos) {
                if (!c.has_buffered()) {
                    const bool idle = pending.empty();
                    const auto limit = idle ? script_.idle_close : std::chrono::milliseconds(0);
                    if (!wait_readable(fd, limit)) {
                        if (!stopping_ && idle && script_.idle_close.count() > 0) return end(c, script_.idle_how);
                        return end(c, after_answer::close_fin);
                    }
                }
                const long n = c.recv(buffer, sizeof buffer);
                if (n <= 0) return end(c, after_answer::close_fin);
                pending.append(buffer, static_cast<std::size_t>(n));
            }
            scripted_request request;
            request.connection = number;
            request.head = pending.substr(0, head_end + 4);
            pending.erase(0, head_end + 4);
            const auto space = request.head.find(' ');
            request.method = request.head.substr(0, space);
            request.target = request.head.substr(space + 1, request.head.find(' ', space + 1) - space - 1);
            std::size_t length = 0;
            const auto cl = request.head.find("Content-Length: ");
            if (cl != std::string::npos) length = std::stoul(request.head.substr(cl + 16));
            while (pending.size() < length) {
                const long n = c.recv(buffer, sizeof buffer);
                if (n <= 0) return end(c, after_answer::close_fin);
                pending.append(buffer, static_cast<std::size_t>(n));
            }
            request.body = pending.substr(0, length);
            pending.erase(0, length);
            const std::string bytes = script_.answer(request);
            request.answered_status = final_status(bytes);
            {
                std::lock_guard lock(mutex_);
                log_.push_back(request);
            }
            if (bytes.empty()) return end(c, after_answer::close_fin);   // read, never answered
            if (!c.send_all(bytes)) return end(c, after_answer::close_fin);
            if (script_.after != after_answer::keep_open) return end(c, script_.after);
        }
    }

    // The status of the last status line in the bytes (interim ones come first).
    static int final_status(const std::string& bytes) {
        int status = 0;
        for (std::size_t at = bytes.find("HTTP/1."); at != std::string::npos; at = bytes.find("HTTP/1.", at + 1))
            if (at == 0 || bytes[at - 1] == '\n') status = std::stoi(bytes.substr(at + 9, 3));
        return status;
    }

    server_script script_;
    invent_dispatch::ssl_context_ptr context_;
    int listener_ = -1;
    unsigned short port_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<unsigned> accepted_{0};
    std::thread acceptor_;
    std::vector<std::thread> handlers_;   // joined at the end (the tests are small)
    mutable std::mutex mutex_;
    std::vector<scripted_request> log_;
};

}   // namespace test_support
