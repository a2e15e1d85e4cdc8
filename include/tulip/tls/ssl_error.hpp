// tulip/tls/ssl_error.hpp — TLS errors (Python's ssl.SSLError family).
//
// As in Python, SSLError is an OSError (here std::system_error, category
// ssl_category()), so a `catch (const std::system_error&)` that handles a
// connection's failures handles its TLS failures too. what() names the
// problem the way OpenSSL does ("[SSL: WRONG_VERSION_NUMBER] wrong version
// number"); a certificate verify failure says why and for which host.
#pragma once

#include <string>
#include <system_error>

namespace tulip::ssl {

const std::error_category& ssl_category() noexcept;

class SSLError : public std::system_error {
public:
    // code: OpenSSL's packed error code (ERR_get_error), or 0.
    // library/reason: OpenSSL's names ("SSL", "WRONG_VERSION_NUMBER").
    SSLError(int code, std::string library, std::string reason, const std::string& what);
    const std::string& library() const noexcept { return library_; }
    const std::string& reason() const noexcept { return reason_; }
    // The message alone (std::system_error would append the category's).
    const char* what() const noexcept override { return what_.c_str(); }

private:
    std::string library_;
    std::string reason_;
    std::string what_;
};

// The peer's certificate did not verify (ssl.SSLCertVerificationError, alias
// ssl.CertificateError): verify_code is X509_V_ERR_*, verify_message its text.
class SSLCertVerificationError : public SSLError {
public:
    SSLCertVerificationError(long verify_code, std::string verify_message, const std::string& what);
    long verify_code() const noexcept { return verify_code_; }
    const std::string& verify_message() const noexcept { return verify_message_; }

private:
    long verify_code_;
    std::string verify_message_;
};
using CertificateError = SSLCertVerificationError;

// The peer closed the TLS session (close_notify) where data was expected
// (ssl.SSLZeroReturnError); and a TLS connection closed without close_notify
// where the protocol needs it (ssl.SSLEOFError).
class SSLZeroReturnError : public SSLError {
public:
    using SSLError::SSLError;
};
class SSLEOFError : public SSLError {
public:
    using SSLError::SSLError;
};

}  // namespace tulip::ssl
