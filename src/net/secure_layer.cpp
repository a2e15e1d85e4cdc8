// The network layer's side of the TLS seam (net/secure_layer.hpp), and
// BaseTransport's default set_protocol.
#include <tulip/net/secure_layer.hpp>

#include <stdexcept>
#include <string>

namespace tulip {

void BaseTransport::set_protocol(std::unique_ptr<BaseProtocol> protocol) {
    (void)protocol;
    throw std::runtime_error("set_protocol() is not supported by this transport");
}

namespace detail {

void check_ssl_timeouts(bool has_ssl, const double* handshake, const double* shutdown) {
    auto check = [&](const double* v, const char* name) {
        if (!v) return;
        if (!has_ssl) throw std::invalid_argument(std::string(name) + " is only meaningful with ssl");
        if (!(*v > 0))
            throw std::invalid_argument(std::string(name) + " should be a positive number, got " + std::to_string(*v));
    };
    check(handshake, "ssl_handshake_timeout");
    check(shutdown, "ssl_shutdown_timeout");
}

}  // namespace detail

}  // namespace tulip
