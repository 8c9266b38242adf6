#include "tests/e2e/fake_ca.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <random>
#include <stdexcept>

namespace labeler::testing {

namespace {

template <class T, void (*Free)(T*)>
struct openssl_free {
    void operator()(T* p) const { Free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, openssl_free<EVP_PKEY, EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, openssl_free<X509, X509_free>>;
using bio_ptr = std::unique_ptr<BIO, openssl_free<BIO, BIO_free_all>>;

void check(bool ok, const char* what) {
    if (ok) return;
    char why[256];
    ERR_error_string_n(ERR_get_error(), why, sizeof why);
    throw std::runtime_error(std::string("test_ca: ") + what + ": " + why);
}

pkey_ptr new_key() {
    pkey_ptr k(EVP_EC_gen("P-256"));
    check(k != nullptr, "EC key generation");
    return k;
}

// `value` in openssl.cnf syntax, e.g. "critical,CA:TRUE".
void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    check(ext != nullptr, "X509V3_EXT_conf_nid");
    int added = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    check(added == 1, "X509_add_ext");
}

// An unsigned v3 certificate for `key`, valid from an hour ago for a day. `issuer` null means
// self-issued.
x509_ptr new_cert(EVP_PKEY* key, std::string_view common_name, X509* issuer) {
    x509_ptr c(X509_new());
    check(c != nullptr, "X509_new");
    check(X509_set_version(c.get(), X509_VERSION_3) == 1, "X509_set_version");
    std::random_device rd;
    std::uint64_t serial = (std::uint64_t(rd()) << 31) ^ rd();
    check(ASN1_INTEGER_set_uint64(X509_get_serialNumber(c.get()), serial | 1) == 1, "serial");
    check(X509_gmtime_adj(X509_getm_notBefore(c.get()), -3600) != nullptr, "notBefore");
    check(X509_gmtime_adj(X509_getm_notAfter(c.get()), 24 * 3600) != nullptr, "notAfter");
    check(X509_set_pubkey(c.get(), key) == 1, "X509_set_pubkey");
    X509_NAME* name = X509_get_subject_name(c.get());
    check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                     reinterpret_cast<const unsigned char*>(common_name.data()),
                                     int(common_name.size()), -1, 0) == 1,
          "subject name");
    check(X509_set_issuer_name(c.get(), issuer ? X509_get_subject_name(issuer) : name) == 1,
          "issuer name");
    return c;
}

std::string to_pem(X509* cert) {
    bio_ptr b(BIO_new(BIO_s_mem()));
    check(b && PEM_write_bio_X509(b.get(), cert) == 1, "PEM_write_bio_X509");
    char* data = nullptr;
    long n = BIO_get_mem_data(b.get(), &data);
    return std::string(data, std::size_t(n));
}

std::string to_pem(EVP_PKEY* key) {
    bio_ptr b(BIO_new(BIO_s_mem()));
    check(b && PEM_write_bio_PrivateKey(b.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
          "PEM_write_bio_PrivateKey");
    char* data = nullptr;
    long n = BIO_get_mem_data(b.get(), &data);
    return std::string(data, std::size_t(n));
}

}  // namespace

struct test_ca::keys {
    pkey_ptr key;
    x509_ptr cert;
};

test_ca::test_ca(std::string_view common_name) : keys_(std::make_unique<keys>()) {
    keys_->key = new_key();
    keys_->cert = new_cert(keys_->key.get(), common_name, nullptr);
    X509* c = keys_->cert.get();
    add_extension(c, c, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(c, c, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_extension(c, c, NID_subject_key_identifier, "hash");
    check(X509_sign(c, keys_->key.get(), EVP_sha256()) > 0, "X509_sign (CA)");
    cert_pem_ = to_pem(c);
}

test_ca::~test_ca() = default;

tls_identity test_ca::issue(const std::vector<std::string>& alt_names) const {
    std::string san;
    for (const auto& n : alt_names) san += (san.empty() ? "" : ",") + n;
    auto key = new_key();
    auto cert = new_cert(key.get(), "random-labeler test server", keys_->cert.get());
    X509* c = cert.get();
    X509* ca = keys_->cert.get();
    add_extension(c, ca, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(c, ca, NID_key_usage, "critical,digitalSignature");
    add_extension(c, ca, NID_ext_key_usage, "serverAuth");
    add_extension(c, ca, NID_subject_key_identifier, "hash");
    add_extension(c, ca, NID_authority_key_identifier, "keyid:always");
    if (!san.empty()) add_extension(c, ca, NID_subject_alt_name, san);
    check(X509_sign(c, keys_->key.get(), EVP_sha256()) > 0, "X509_sign (server)");
    return {to_pem(c), to_pem(key.get())};
}

}  // namespace labeler::testing
