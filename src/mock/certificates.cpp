// Run-time certificates for loopback TLS (the mock, the demo, the tests):
// a throwaway EC P-256 CA and a server certificate it signed, through the
// OpenSSL 3 API. Nothing is written to disk; the caller gets PEM strings.
#include "invent_dispatch/mock.hpp"
#include "invent_dispatch/openssl_ptr.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdexcept>
#include <string_view>

namespace invent_dispatch {
namespace {

constexpr long one_hour = 60 * 60;
constexpr long one_day = 24 * one_hour;

[[noreturn]] void fail(std::string_view what) {
    std::string message = "certificate generation failed: ";
    message += what;
    if (const auto code = ERR_get_error(); code != 0) {
        char reason[256];
        ERR_error_string_n(code, reason, sizeof reason);
        message += " (";
        message += reason;
        message += ')';
    }
    ERR_clear_error();
    throw std::runtime_error(message);
}

void check(int result, std::string_view what) {
    if (result <= 0) fail(what);
}

key_ptr make_key() {
    key_ptr key{EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")};
    if (!key) fail("EC P-256 key");
    return key;
}

// Version 3, a random positive 128-bit serial (browsers and OpenSSL reject
// duplicate serials from one issuer), valid from an hour ago (clock skew) for a day.
cert_ptr start_certificate(EVP_PKEY* key, const std::string& common_name) {
    cert_ptr cert{X509_new()};
    if (!cert) fail("X509_new");
    check(X509_set_version(cert.get(), X509_VERSION_3), "version");

    unsigned char serial_bytes[16];
    check(RAND_bytes(serial_bytes, sizeof serial_bytes), "serial");
    serial_bytes[0] &= 0x7f;
    bignum_ptr serial{BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr)};
    if (!serial || !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()))) fail("serial");

    if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), -one_hour) ||
        !X509_gmtime_adj(X509_getm_notAfter(cert.get()), one_day))
        fail("validity");
    check(X509_set_pubkey(cert.get(), key), "public key");

    X509_NAME* subject = X509_get_subject_name(cert.get());
    const auto* organisation = reinterpret_cast<const unsigned char*>("invent-dispatch");
    const auto* common = reinterpret_cast<const unsigned char*>(common_name.c_str());
    check(X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_ASC, organisation, -1, -1, 0), "O");
    check(X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, common, -1, -1, 0), "CN");
    return cert;
}

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX context;
    X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
    extension_ptr extension{X509V3_EXT_conf_nid(nullptr, &context, nid, value)};
    if (!extension) fail(value);
    check(X509_add_ext(cert, extension.get(), -1), value);
}

// Built as GENERAL_NAMEs rather than a "DNS:a,IP:b" config string, so a name
// holding a comma cannot smuggle in another entry.
void add_subject_alt_names(X509* cert, const std::vector<std::string>& dns_names,
                           const std::vector<std::string>& ip_addresses) {
    names_ptr names{sk_GENERAL_NAME_new_null()};
    if (!names) fail("subjectAltName");
    const auto push = [&](int type, ASN1_STRING* value) {
        GENERAL_NAME* name = GENERAL_NAME_new();
        if (!name) {
            ASN1_STRING_free(value);
            fail("subjectAltName entry");
        }
        GENERAL_NAME_set0_value(name, type, value);
        if (!sk_GENERAL_NAME_push(names.get(), name)) {
            GENERAL_NAME_free(name);
            fail("subjectAltName entry");
        }
    };
    for (const auto& dns : dns_names) {
        ASN1_IA5STRING* value = ASN1_IA5STRING_new();
        if (!value || !ASN1_STRING_set(value, dns.data(), static_cast<int>(dns.size()))) {
            ASN1_IA5STRING_free(value);
            fail("DNS name");
        }
        push(GEN_DNS, value);
    }
    for (const auto& ip : ip_addresses) {
        ASN1_OCTET_STRING* value = a2i_IPADDRESS(ip.c_str());
        if (!value) throw std::invalid_argument("not an IP address: " + ip);
        push(GEN_IPADD, value);
    }
    check(X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT), "subjectAltName");
}

void sign(X509* cert, EVP_PKEY* issuer_key) {
    check(X509_sign(cert, issuer_key, EVP_sha256()), "signature");
}

template <class Write>
std::string to_pem(Write write) {
    bio_ptr bio{BIO_new(BIO_s_mem())};
    if (!bio) fail("BIO_new");
    check(write(bio.get()), "PEM");
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

}   // namespace

generated_certificates generate_certificates(const std::vector<std::string>& dns_names,
                                             const std::vector<std::string>& ip_addresses) {
    if (dns_names.empty() && ip_addresses.empty())
        throw std::invalid_argument("a server certificate needs a DNS name or an IP address");

    const key_ptr ca_key = make_key();
    const cert_ptr ca = start_certificate(ca_key.get(), "invent-dispatch throwaway CA");
    check(X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get())), "CA issuer");
    add_extension(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE");
    add_extension(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
    add_extension(ca.get(), ca.get(), NID_subject_key_identifier, "hash");
    sign(ca.get(), ca_key.get());

    const key_ptr server_key = make_key();
    const std::string& common_name = dns_names.empty() ? ip_addresses.front() : dns_names.front();
    const cert_ptr server = start_certificate(server_key.get(), common_name);
    check(X509_set_issuer_name(server.get(), X509_get_subject_name(ca.get())), "issuer");
    add_extension(server.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE");
    add_extension(server.get(), ca.get(), NID_key_usage, "critical,digitalSignature");
    add_extension(server.get(), ca.get(), NID_ext_key_usage, "serverAuth");
    add_extension(server.get(), ca.get(), NID_subject_key_identifier, "hash");
    add_extension(server.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
    add_subject_alt_names(server.get(), dns_names, ip_addresses);
    sign(server.get(), ca_key.get());

    return {
        to_pem([&](BIO* bio) { return PEM_write_bio_X509(bio, ca.get()); }),
        to_pem([&](BIO* bio) { return PEM_write_bio_X509(bio, server.get()); }),
        to_pem([&](BIO* bio) {
            return PEM_write_bio_PrivateKey(bio, server_key.get(), nullptr, nullptr, 0, nullptr, nullptr);
        }),
    };
}

}   // namespace invent_dispatch
