// TLS errors: ssl::SSLError and friends, and how OpenSSL's error queue
// becomes one (src/tls/openssl_util.hpp).
#include <tulip/tls/ssl_error.hpp>

#include <cctype>
#include <cstring>

#include "openssl_util.hpp"

namespace tulip::ssl {

namespace {

class SslCategory final : public std::error_category {
public:
    const char* name() const noexcept override { return "ssl"; }
    std::string message(int code) const override {
        if (code == 0) return "SSL error";
        char buf[256];
        ERR_error_string_n(static_cast<unsigned long>(code), buf, sizeof buf);
        return buf;
    }
};

// OpenSSL's upper-case reason name as Python prints it ("WRONG_VERSION_NUMBER"),
// made from the lower-case text ("wrong version number").
std::string reason_name(const char* text) {
    std::string r;
    for (const char* p = text; *p; ++p)
        r += (*p == ' ' || *p == '-') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(*p)));
    return r;
}

}  // namespace

const std::error_category& ssl_category() noexcept {
    static const SslCategory c;
    return c;
}

SSLError::SSLError(int code, std::string library, std::string reason, const std::string& what)
    : std::system_error(std::error_code(code, ssl_category()), what), library_(std::move(library)),
      reason_(std::move(reason)), what_(what) {}

SSLCertVerificationError::SSLCertVerificationError(long verify_code, std::string verify_message,
                                                   const std::string& what)
    : SSLError(0, "SSL", "CERTIFICATE_VERIFY_FAILED", what), verify_code_(verify_code),
      verify_message_(std::move(verify_message)) {}

namespace detail {

std::exception_ptr ssl_error_from_code(unsigned long code, const std::string& context) {
    const char* lib = ERR_lib_error_string(code);
    const char* reason = ERR_reason_error_string(code);
    std::string libname = lib ? (std::strcmp(lib, "SSL routines") == 0 ? "SSL" : lib) : "SSL";
    std::string rname = reason ? reason_name(reason) : std::to_string(ERR_GET_REASON(code));
    std::string what = "[" + libname + ": " + rname + "] " + (reason ? reason : "unknown error");
    if (!context.empty()) what = context + ": " + what;
    return std::make_exception_ptr(SSLError(static_cast<int>(code), libname, rname, what));
}

std::exception_ptr make_ssl_error(const std::string& context, const char* fallback) {
    unsigned long code = ERR_get_error();
    // The first error is the root cause; the rest repeat it one level up.
    ERR_clear_error();
    if (code == 0) {
        std::string what = context.empty() ? std::string(fallback) : context + ": " + fallback;
        return std::make_exception_ptr(SSLError(0, "SSL", reason_name(fallback), what));
    }
    return ssl_error_from_code(code, context);
}

void throw_ssl_error(const std::string& context, const char* fallback) {
    std::rethrow_exception(make_ssl_error(context, fallback));
}

}  // namespace detail

}  // namespace tulip::ssl
