// ssl::SSLContext on its own, without a connection: the defaults, Python's
// verify_mode/check_hostname rules, and how loading files and settings fails
// (CPython test_ssl.py ContextTests, in spirit).
#include <tulip/tls/ssl_context.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

#include <tulip/tls/ssl_error.hpp>

#include "support/tls_certs.hpp"

namespace tls_ssl_context_test {

using namespace tulip;
using namespace tulip::ssl;
using test::test_pki;

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string read_file(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// The message of the std::system_error f() raises ("" if none, a failure if
// it raises something else).
template <class F>
std::string system_error_of(F f) {
    try {
        f();
    } catch (const std::system_error& e) {
        return e.what();
    } catch (const std::exception& e) {
        ADD_FAILURE() << "not a std::system_error: " << e.what();
        return e.what();
    }
    ADD_FAILURE() << "nothing was raised";
    return "";
}

}  // namespace

static_assert(std::is_base_of_v<std::system_error, SSLError>, "SSLError is an OSError, as Python's");
static_assert(std::is_base_of_v<SSLError, SSLCertVerificationError>);

// ---- defaults --------------------------------------------------------------------------

TEST(SSLContext, AClientContextVerifiesThePeerAndItsName) {
    SSLContext ctx;
    EXPECT_EQ(ctx.mode(), PROTOCOL_TLS_CLIENT);
    EXPECT_FALSE(ctx.server_side());
    EXPECT_EQ(ctx.verify_mode(), CERT_REQUIRED);
    EXPECT_TRUE(ctx.check_hostname());
    EXPECT_NE(ctx.native_handle(), nullptr);
    EXPECT_TRUE(static_cast<bool>(ctx));  // a SecureContext that is set
}

TEST(SSLContext, AServerContextAsksNoClientCertificate) {
    SSLContext ctx(PROTOCOL_TLS_SERVER);
    EXPECT_EQ(ctx.mode(), PROTOCOL_TLS_SERVER);
    EXPECT_TRUE(ctx.server_side());
    EXPECT_EQ(ctx.verify_mode(), CERT_NONE);
    EXPECT_FALSE(ctx.check_hostname());
}

TEST(SSLContext, SessionResumptionIsOnByDefault) {
    SSLContext ctx;
    EXPECT_TRUE(ctx.session_resumption());
    ctx.set_session_resumption(false);
    EXPECT_FALSE(ctx.session_resumption());
}

TEST(SSLContext, CreateDefaultContextForServerAuthIsAClientContext) {
    SSLContext ctx = create_default_context(Purpose::SERVER_AUTH);
    EXPECT_EQ(ctx.mode(), PROTOCOL_TLS_CLIENT);
    EXPECT_EQ(ctx.verify_mode(), CERT_REQUIRED);
    EXPECT_TRUE(ctx.check_hostname());
    // Also with a CA file of ours.
    SSLContext with_ca = create_default_context(Purpose::SERVER_AUTH, test_pki().ca.cert);
    EXPECT_EQ(with_ca.mode(), PROTOCOL_TLS_CLIENT);
    EXPECT_EQ(with_ca.verify_mode(), CERT_REQUIRED);
}

TEST(SSLContext, CreateDefaultContextForClientAuthIsAServerContext) {
    SSLContext ctx = create_default_context(Purpose::CLIENT_AUTH);
    EXPECT_EQ(ctx.mode(), PROTOCOL_TLS_SERVER);
    EXPECT_EQ(ctx.verify_mode(), CERT_NONE);
    EXPECT_FALSE(ctx.check_hostname());
}

TEST(SSLContext, OpensslVersionIsThree) {
    EXPECT_TRUE(openssl_version().rfind("OpenSSL 3", 0) == 0) << openssl_version();
}

// ---- verify_mode and check_hostname (Python's rules) ----------------------------------

TEST(SSLContext, CertNoneWithCheckHostnameOnIsRefused) {
    SSLContext ctx;
    EXPECT_THROW(ctx.set_verify_mode(CERT_NONE), std::invalid_argument);
    EXPECT_EQ(ctx.verify_mode(), CERT_REQUIRED);  // unchanged
    ctx.set_check_hostname(false);
    ctx.set_verify_mode(CERT_NONE);
    EXPECT_EQ(ctx.verify_mode(), CERT_NONE);
    EXPECT_FALSE(ctx.check_hostname());
}

TEST(SSLContext, TurningCheckHostnameOnRaisesCertNoneToCertRequired) {
    SSLContext srv(PROTOCOL_TLS_SERVER);
    ASSERT_EQ(srv.verify_mode(), CERT_NONE);
    srv.set_check_hostname(true);
    EXPECT_TRUE(srv.check_hostname());
    EXPECT_EQ(srv.verify_mode(), CERT_REQUIRED);
}

TEST(SSLContext, TurningCheckHostnameOnKeepsCertOptional) {
    SSLContext ctx;
    ctx.set_check_hostname(false);
    ctx.set_verify_mode(CERT_OPTIONAL);
    ctx.set_check_hostname(true);
    EXPECT_EQ(ctx.verify_mode(), CERT_OPTIONAL);  // only CERT_NONE is raised
}

TEST(SSLContext, AServerMayRequireClientCertificates) {
    SSLContext srv(PROTOCOL_TLS_SERVER);
    srv.set_verify_mode(CERT_REQUIRED);
    EXPECT_EQ(srv.verify_mode(), CERT_REQUIRED);
    srv.set_verify_mode(CERT_OPTIONAL);
    EXPECT_EQ(srv.verify_mode(), CERT_OPTIONAL);
}

// ---- load_cert_chain -------------------------------------------------------------------

TEST(SSLContext, LoadCertChainWithItsKeyWorks) {
    SSLContext srv(PROTOCOL_TLS_SERVER);
    EXPECT_NO_THROW(srv.load_cert_chain(test_pki().server.cert, test_pki().server.key));
}

TEST(SSLContext, LoadCertChainOfAMissingFileNamesIt) {
    SSLContext srv(PROTOCOL_TLS_SERVER);
    const std::string missing = test_pki().dir + "/no-such-cert.pem";
    std::string what = system_error_of([&] { srv.load_cert_chain(missing, test_pki().server.key); });
    EXPECT_TRUE(contains(what, "no-such-cert.pem")) << what;
    try {
        srv.load_cert_chain(missing, test_pki().server.key);
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory);  // Python: FileNotFoundError
    }

    const std::string missing_key = test_pki().dir + "/no-such-key.pem";
    what = system_error_of([&] { srv.load_cert_chain(test_pki().server.cert, missing_key); });
    EXPECT_TRUE(contains(what, "no-such-key.pem")) << what;
}

TEST(SSLContext, LoadCertChainWithAKeyThatDoesNotMatchIsAnSSLError) {
    SSLContext srv(PROTOCOL_TLS_SERVER);
    try {
        srv.load_cert_chain(test_pki().server.cert, test_pki().client.key);
        ADD_FAILURE() << "a key of another certificate was accepted";
    } catch (const SSLError& e) {
        std::string what = e.what();
        EXPECT_TRUE(contains(what, test_pki().client.key) || contains(what, test_pki().server.cert)) << what;
    }
}

TEST(SSLContext, AnEncryptedKeyLoadsWithItsPassword) {
    SSLContext srv(PROTOCOL_TLS_SERVER);
    EXPECT_NO_THROW(
        srv.load_cert_chain(test_pki().server.cert, test_pki().server_key_encrypted, test_pki().key_password));
}

TEST(SSLContext, AnEncryptedKeyWithTheWrongPasswordIsAnSSLErrorNamingIt) {
    SSLContext srv(PROTOCOL_TLS_SERVER);
    try {
        srv.load_cert_chain(test_pki().server.cert, test_pki().server_key_encrypted, "not the password");
        ADD_FAILURE() << "a wrong password was accepted";
    } catch (const SSLError& e) {
        EXPECT_TRUE(contains(e.what(), "server-encrypted.key")) << e.what();
    }
}

TEST(SSLContext, ACertificateIsNotAKey) {
    SSLContext srv(PROTOCOL_TLS_SERVER);
    // certfile only: the key is looked for in the certificate's file.
    std::string what = system_error_of([&] { srv.load_cert_chain(test_pki().server.cert); });
    EXPECT_TRUE(contains(what, "server.pem")) << what;
}

// ---- load_verify_locations -------------------------------------------------------------

TEST(SSLContext, LoadVerifyLocationsTakesAFileOrPemText) {
    SSLContext ctx;
    EXPECT_NO_THROW(ctx.load_verify_locations(test_pki().ca.cert));
    SSLContext ctx2;
    EXPECT_NO_THROW(ctx2.load_verify_locations({}, {}, read_file(test_pki().ca.cert)));
}

TEST(SSLContext, LoadVerifyLocationsOfAMissingFileNamesIt) {
    // As Python's FileNotFoundError: an OSError (std::system_error, ENOENT),
    // raised before OpenSSL is asked.
    SSLContext ctx;
    const std::string missing = test_pki().dir + "/no-such-ca.pem";
    try {
        ctx.load_verify_locations(missing);
        ADD_FAILURE() << "a missing CA file was accepted";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory) << e.what();
        EXPECT_TRUE(contains(e.what(), "no-such-ca.pem")) << e.what();
    }
}

TEST(SSLContext, LoadVerifyLocationsOfAFileWithoutCertificatesIsAnSSLErrorNamingIt) {
    SSLContext ctx;
    try {
        ctx.load_verify_locations(test_pki().ca.key);  // a key, no certificate
        ADD_FAILURE() << "a file without certificates was accepted";
    } catch (const SSLError& e) {
        EXPECT_TRUE(contains(e.what(), "ca.key")) << e.what();
    }
}

TEST(SSLContext, LoadVerifyLocationsOfGarbageTextIsAnSSLError) {
    SSLContext ctx;
    EXPECT_THROW(ctx.load_verify_locations({}, {}, "this is not a certificate"), SSLError);
}

// ---- ciphers, ALPN, versions -----------------------------------------------------------

TEST(SSLContext, ABadCipherStringIsAnSSLError) {
    SSLContext ctx;
    EXPECT_THROW(ctx.set_ciphers("NO-SUCH-CIPHER-AT-ALL"), SSLError);
    EXPECT_THROW(ctx.set_ciphersuites("TLS_NO_SUCH_SUITE"), SSLError);
    EXPECT_NO_THROW(ctx.set_ciphers("ECDHE+AESGCM"));
    EXPECT_NO_THROW(ctx.set_ciphersuites("TLS_AES_128_GCM_SHA256"));
}

TEST(SSLContext, AlpnProtocolsMustBeOneTo255Bytes) {
    SSLContext ctx;
    std::vector<std::string> empty_name{"h2", ""};
    EXPECT_THROW(ctx.set_alpn_protocols(empty_name), std::invalid_argument);
    std::vector<std::string> too_long{std::string(256, 'x')};
    EXPECT_THROW(ctx.set_alpn_protocols(too_long), std::invalid_argument);
    std::vector<std::string> longest{std::string(255, 'x')};
    EXPECT_NO_THROW(ctx.set_alpn_protocols(longest));
    std::vector<std::string> usual{"h2", "http/1.1"};
    EXPECT_NO_THROW(ctx.set_alpn_protocols(usual));
}

TEST(SSLContext, MinimumAndMaximumVersionsReadBack) {
    SSLContext ctx;
    ctx.set_minimum_version(TLSVersion::TLSv1_3);
    EXPECT_EQ(ctx.minimum_version(), TLSVersion::TLSv1_3);
    ctx.set_minimum_version(TLSVersion::TLSv1_2);
    ctx.set_maximum_version(TLSVersion::TLSv1_2);
    EXPECT_EQ(ctx.minimum_version(), TLSVersion::TLSv1_2);
    EXPECT_EQ(ctx.maximum_version(), TLSVersion::TLSv1_2);
    ctx.set_maximum_version(TLSVersion::TLSv1_3);
    EXPECT_EQ(ctx.maximum_version(), TLSVersion::TLSv1_3);
}

// ---- a context is a shared handle ------------------------------------------------------

TEST(SSLContext, CopiesAreTheSameContext) {
    SSLContext a;
    SSLContext b = a;
    EXPECT_TRUE(a == b);
    EXPECT_EQ(a.native_handle(), b.native_handle());
    b.set_check_hostname(false);
    EXPECT_FALSE(a.check_hostname());
    a.set_verify_mode(CERT_NONE);
    EXPECT_EQ(b.verify_mode(), CERT_NONE);
    b.set_minimum_version(TLSVersion::TLSv1_3);
    EXPECT_EQ(a.minimum_version(), TLSVersion::TLSv1_3);

    SSLContext other;
    EXPECT_FALSE(a == other);
    EXPECT_NE(a.native_handle(), other.native_handle());
    EXPECT_TRUE(other.check_hostname());  // untouched by a's changes
}

TEST(SSLContext, FromGivesBackTheContextASecureContextHolds) {
    SSLContext a(PROTOCOL_TLS_SERVER);
    const SecureContext& sc = a;
    std::optional<SSLContext> back = SSLContext::from(sc);
    ASSERT_TRUE(back.has_value());
    EXPECT_TRUE(*back == a);
    EXPECT_FALSE(SSLContext::from(SecureContext{}).has_value());
}

TEST(SSLContext, NumTicketsIsAServerSetting) {
    SSLContext server(PROTOCOL_TLS_SERVER);
    EXPECT_EQ(server.num_tickets(), 2u);  // OpenSSL's default
    server.set_num_tickets(0);
    EXPECT_EQ(server.num_tickets(), 0u);
    SSLContext client(PROTOCOL_TLS_CLIENT);
    EXPECT_THROW(client.set_num_tickets(1), std::invalid_argument);
}

}  // namespace tls_ssl_context_test
