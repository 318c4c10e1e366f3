#pragma once
// unique_ptr owners for OpenSSL's objects, one deleter set for every stage
// (the TLS transport, the certificate generator, the tests' servers).
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace invent_dispatch {

template <auto free_fn>
struct openssl_free {
    template <class T>
    void operator()(T* p) const noexcept {
        free_fn(p);
    }
};

using bio_ptr = std::unique_ptr<BIO, openssl_free<BIO_free_all>>;
using bignum_ptr = std::unique_ptr<BIGNUM, openssl_free<BN_free>>;
using cert_ptr = std::unique_ptr<X509, openssl_free<X509_free>>;
using extension_ptr = std::unique_ptr<X509_EXTENSION, openssl_free<X509_EXTENSION_free>>;
using key_ptr = std::unique_ptr<EVP_PKEY, openssl_free<EVP_PKEY_free>>;
using names_ptr = std::unique_ptr<GENERAL_NAMES, openssl_free<GENERAL_NAMES_free>>;
using ssl_ptr = std::unique_ptr<SSL, openssl_free<SSL_free>>;
using ssl_context_ptr = std::unique_ptr<SSL_CTX, openssl_free<SSL_CTX_free>>;

}   // namespace invent_dispatch
