// tulip/net/secure_layer.hpp — the seam through which a security layer (TLS)
// wraps new connections, without the network layer knowing TLS (asyncio's
// create_connection/create_server `ssl=` argument and _make_ssl_transport).
//
// SecureContext is what ConnectOptions::ssl and ServerOptions::ssl hold;
// ssl::SSLContext (tls/ssl_context.hpp) is one. The network layer asks it,
// for each new connection, for the protocol the socket transport drives (the
// TLS protocol), which owns the application's protocol and gives it its own
// transport once the handshake is done.
// Thread safety: a SecureContext may be shared by loops on several threads.
#pragma once

#include <memory>
#include <string>

#include <tulip/core/ref.hpp>
#include <tulip/loop/event_loop.hpp>
#include <tulip/net/protocol.hpp>
#include <tulip/net/transport.hpp>
#include <tulip/task/future.hpp>

namespace tulip {

// asyncio's constants (base_events/constants.py), in seconds.
inline constexpr double kSslHandshakeTimeout = 60.0;
inline constexpr double kSslShutdownTimeout = 30.0;

struct SecureLayerParams {
    bool server_side = false;
    std::string server_hostname;  // client: SNI and the name checked; "" for none
    double handshake_timeout = kSslHandshakeTimeout;
    double shutdown_timeout = kSslShutdownTimeout;
};

class SecureLayer {
public:
    virtual ~SecureLayer() = default;
    // The protocol for the raw transport. It owns `app`; once the handshake
    // succeeds it calls app's connection_made with the secure transport and
    // sets `waiter` (if any) to that transport; a failed handshake closes the
    // connection and sets `waiter`'s exception (app never sees it).
    virtual std::unique_ptr<BaseProtocol> wrap(EventLoop& loop, std::unique_ptr<BaseProtocol> app,
                                               const SecureLayerParams& params,
                                               Future<Ref<Transport>> waiter) const = 0;
};

// A shared handle to a SecureLayer; empty means plain text.
class SecureContext {
public:
    SecureContext() noexcept = default;
    explicit operator bool() const noexcept { return static_cast<bool>(layer_); }
    const SecureLayer* layer() const noexcept { return layer_.get(); }

protected:
    explicit SecureContext(std::shared_ptr<SecureLayer> layer) noexcept : layer_(std::move(layer)) {}
    std::shared_ptr<SecureLayer> layer_;
};

namespace detail {
// asyncio's checks on ssl_handshake_timeout / ssl_shutdown_timeout: given
// without ssl, or not positive, raises std::invalid_argument (ValueError).
void check_ssl_timeouts(bool has_ssl, const double* handshake, const double* shutdown);
}  // namespace detail

}  // namespace tulip
