#pragma once
// fake_ca: a throwaway certificate authority for TLS tests, generated in memory with the
// OpenSSL 3 API (no `openssl` command, no key ever written to the repository).
//
// A test_ca holds a fresh P-256 key and a self-signed CA certificate valid for one day; issue()
// signs server certificates with the given subjectAltNames. Everything is PEM text: write
// cert_pem() to a temporary folder for the client to trust, and hand an issued identity to
// fake_stream_server. Construction and issue() throw std::runtime_error if OpenSSL fails.
// Not thread-safe per object.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace labeler::testing {

// A certificate chain and its private key, both PEM.
struct tls_identity {
    std::string cert_chain_pem;
    std::string key_pem;
};

class test_ca {
public:
    explicit test_ca(std::string_view common_name = "random-labeler test CA");
    ~test_ca();
    test_ca(const test_ca&) = delete;
    test_ca& operator=(const test_ca&) = delete;

    const std::string& cert_pem() const { return cert_pem_; }
    // A server certificate (serverAuth) for `alt_names` in OpenSSL syntax, e.g.
    // {"DNS:localhost", "IP:127.0.0.1"}, signed by this CA, with a new key.
    tls_identity issue(const std::vector<std::string>& alt_names) const;

private:
    struct keys;
    std::unique_ptr<keys> keys_;
    std::string cert_pem_;
};

}  // namespace labeler::testing
