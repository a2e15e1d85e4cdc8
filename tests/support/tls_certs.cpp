// tests/support/tls_certs.cpp — makes the test PKI (see tls_certs.hpp) with
// OpenSSL's C API: no openssl(1) runs, so the tests do not depend on its
// command-line options.
#include "support/tls_certs.hpp"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace tulip::test {

namespace {

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "tls_certs: %s failed\n", what);
    ERR_print_errors_fp(stderr);
    std::abort();
}

struct KeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
    void operator()(X509* c) const { X509_free(c); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

Key make_key() {
    Key k(EVP_EC_gen("P-256"));
    if (!k) die("EVP_EC_gen");
    return k;
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (!ext) die(value.c_str());
    if (X509_add_ext(cert, ext, -1) != 1) die("X509_add_ext");
    X509_EXTENSION_free(ext);
}

struct Spec {
    std::string cn;
    bool ca = false;
    long from_days = -1;
    long to_days = 365;
    std::string san;  // "DNS:localhost,IP:127.0.0.1", or "" for none
    std::string eku;  // "serverAuth", "clientAuth", or ""
};

// A certificate for `key` per spec, signed by issuer/issuer_key (self-signed
// when issuer is null).
Cert make_cert(const Spec& s, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key) {
    Cert c(X509_new());
    if (!c) die("X509_new");
    X509* x = c.get();
    X509_set_version(x, 2);  // v3
    // A random 64-bit positive serial: two certs of one issuer must differ.
    BIGNUM* bn = BN_new();
    if (!bn || BN_rand(bn, 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1) die("BN_rand");
    if (!BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x))) die("BN_to_ASN1_INTEGER");
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(x), s.from_days * 86400L);
    X509_gmtime_adj(X509_getm_notAfter(x), s.to_days * 86400L);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("tulip tests"), -1, -1,
                               0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(s.cn.c_str()), -1, -1,
                               0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    if (X509_set_pubkey(x, key) != 1) die("X509_set_pubkey");
    X509* iss = issuer ? issuer : x;
    if (s.ca) {
        add_ext(x, iss, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(x, iss, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(x, iss, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(x, iss, NID_key_usage, "critical,digitalSignature");
    }
    add_ext(x, iss, NID_subject_key_identifier, "hash");
    add_ext(x, iss, NID_authority_key_identifier, "keyid:always");
    if (!s.san.empty()) add_ext(x, iss, NID_subject_alt_name, s.san);
    if (!s.eku.empty()) add_ext(x, iss, NID_ext_key_usage, s.eku);
    if (X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) == 0) die("X509_sign");
    return c;
}

void write_cert(const std::string& path, X509* c) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (!f) die(path.c_str());
    if (PEM_write_X509(f, c) != 1) die("PEM_write_X509");
    std::fclose(f);
}

void write_key(const std::string& path, EVP_PKEY* k, const std::string& password = {}) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (!f) die(path.c_str());
    int ok;
    if (password.empty()) {
        ok = PEM_write_PrivateKey(f, k, nullptr, nullptr, 0, nullptr, nullptr);
    } else {
        ok = PEM_write_PrivateKey(f, k, EVP_aes_256_cbc(), reinterpret_cast<const unsigned char*>(password.data()),
                                  static_cast<int>(password.size()), nullptr, nullptr);
    }
    if (ok != 1) die("PEM_write_PrivateKey");
    std::fclose(f);
}

Spec ca_spec(const char* cn) {
    Spec s;
    s.cn = cn;
    s.ca = true;
    s.to_days = 3650;
    return s;
}
Spec leaf_spec(const char* cn, const char* san, const char* eku, long from_days = -1, long to_days = 365) {
    Spec s;
    s.cn = cn;
    s.san = san;
    s.eku = eku;
    s.from_days = from_days;
    s.to_days = to_days;
    return s;
}

const char* kLocalhostSan = "DNS:localhost,IP:127.0.0.1,IP:::1";

// Owns the directory: removes it at exit, in the process that made it only
// (a forked child that exits must not take it away from the parent).
struct PkiHolder {
    TestPki pki;
    pid_t owner = ::getpid();

    PkiHolder() {
        char tmpl[] = "/tmp/tulip-tls-pki-XXXXXX";
        if (!::mkdtemp(tmpl)) die("mkdtemp");
        pki.dir = tmpl;
        auto file = [&](const char* name) { return pki.dir + "/" + name; };
        auto save = [&](CertFiles& out, const char* stem, X509* c, EVP_PKEY* k) {
            out.cert = file((std::string(stem) + ".pem").c_str());
            out.key = file((std::string(stem) + ".key").c_str());
            write_cert(out.cert, c);
            write_key(out.key, k);
        };

        Key ca_key = make_key();
        Cert ca = make_cert(ca_spec("tulip test CA"), ca_key.get(), nullptr, nullptr);
        save(pki.ca, "ca", ca.get(), ca_key.get());

        Key srv_key = make_key();
        Cert srv =
            make_cert(leaf_spec("localhost", kLocalhostSan, "serverAuth"), srv_key.get(), ca.get(), ca_key.get());
        save(pki.server, "server", srv.get(), srv_key.get());
        pki.server_key_encrypted = file("server-encrypted.key");
        write_key(pki.server_key_encrypted, srv_key.get(), pki.key_password);

        Key exp_key = make_key();
        Cert exp = make_cert(leaf_spec("localhost", kLocalhostSan, "serverAuth", -30, -1), exp_key.get(), ca.get(),
                             ca_key.get());
        save(pki.expired, "expired", exp.get(), exp_key.get());

        Key wrong_key = make_key();
        Cert wrong = make_cert(leaf_spec("wrong.example", "DNS:wrong.example", "serverAuth"), wrong_key.get(), ca.get(),
                               ca_key.get());
        save(pki.wrong_host, "wrong-host", wrong.get(), wrong_key.get());

        Key uca_key = make_key();
        Cert uca = make_cert(ca_spec("tulip unknown CA"), uca_key.get(), nullptr, nullptr);
        save(pki.unknown_ca, "unknown-ca", uca.get(), uca_key.get());
        Key unk_key = make_key();
        Cert unk =
            make_cert(leaf_spec("localhost", kLocalhostSan, "serverAuth"), unk_key.get(), uca.get(), uca_key.get());
        save(pki.unknown, "unknown", unk.get(), unk_key.get());

        Key cli_key = make_key();
        Cert cli = make_cert(leaf_spec("tulip client", "", "clientAuth"), cli_key.get(), ca.get(), ca_key.get());
        save(pki.client, "client", cli.get(), cli_key.get());
    }
    ~PkiHolder() {
        if (::getpid() != owner) return;
        std::error_code ec;
        std::filesystem::remove_all(pki.dir, ec);
    }
};

}  // namespace

const TestPki& test_pki() {
    static PkiHolder holder;
    return holder.pki;
}

}  // namespace tulip::test
