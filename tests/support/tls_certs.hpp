// tests/support/tls_certs.hpp — a throw-away PKI for the TLS tests: a CA and
// the certificates the tests need (good, expired, wrong host, unknown CA,
// client), made with OpenSSL's C API once per test process in a fresh temp
// directory that is removed at exit. Keys are EC P-256 (fast to make).
#pragma once

#include <string>

namespace tulip::test {

// A PEM certificate and its PEM private key (unencrypted).
struct CertFiles {
    std::string cert;
    std::string key;
};

struct TestPki {
    std::string dir;       // the temp directory everything lives in
    CertFiles ca;          // self-signed CA, trusted by the tests
    CertFiles server;      // CN localhost, SAN DNS:localhost, IP:127.0.0.1, IP:::1; signed by ca
    CertFiles expired;     // as server, valid from -30 days to -1 day
    CertFiles wrong_host;  // SAN DNS:wrong.example only; signed by ca
    CertFiles unknown_ca;  // a second self-signed CA nobody trusts
    CertFiles unknown;     // a server cert for localhost signed by unknown_ca
    CertFiles client;      // CN "tulip client", EKU clientAuth; signed by ca
    // server.key encrypted (AES-256-CBC PEM) with key_password.
    std::string server_key_encrypted;
    std::string key_password = "secret";
};

// Made on first use (thread-safe); aborts the test process on failure.
const TestPki& test_pki();

}  // namespace tulip::test
