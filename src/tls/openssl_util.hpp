// src/tls/openssl_util.hpp — internal: turning OpenSSL's error queue into
// ssl::SSLError, and small RAII holders for OpenSSL objects.
#pragma once

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include <tulip/tls/ssl_error.hpp>

namespace tulip::ssl::detail {

// An SSLError from the first error on this thread's OpenSSL error queue
// (the queue is cleared); `context` prefixes the message ("load_cert_chain:
// key.pem"). With an empty queue, `fallback` is the reason.
[[noreturn]] void throw_ssl_error(const std::string& context, const char* fallback = "unknown error");
std::exception_ptr make_ssl_error(const std::string& context, const char* fallback = "unknown error");
// The same from one packed error code.
std::exception_ptr ssl_error_from_code(unsigned long code, const std::string& context);

struct X509Free {
    void operator()(X509* x) const noexcept { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

}  // namespace tulip::ssl::detail
