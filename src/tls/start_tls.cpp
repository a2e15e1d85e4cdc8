// start_tls (asyncio loop.start_tls), and the SecureLayer an SSLContext is
// for create_connection/create_server (asyncio's _make_ssl_transport).
#include <tulip/tls/start_tls.hpp>

#include <stdexcept>

#include <tulip/loop/handle.hpp>

#include "ssl_context_impl.hpp"
#include "ssl_protocol.hpp"

namespace tulip {

namespace {

SecureLayerParams layer_params(bool server_side, std::string host, const std::optional<double>& handshake,
                               const std::optional<double>& shutdown) {
    detail::check_ssl_timeouts(true, handshake ? &*handshake : nullptr, shutdown ? &*shutdown : nullptr);
    SecureLayerParams p;
    p.server_side = server_side;
    p.server_hostname = std::move(host);
    if (handshake) p.handshake_timeout = *handshake;
    if (shutdown) p.shutdown_timeout = *shutdown;
    return p;
}

}  // namespace

std::unique_ptr<BaseProtocol> ssl::SSLContext::Impl::wrap(EventLoop& loop, std::unique_ptr<BaseProtocol> app,
                                                          const SecureLayerParams& params,
                                                          Future<Ref<Transport>> waiter) const {
    if (!app) throw std::runtime_error("the protocol factory returned no protocol");
    ssl::detail::SslPtr ssl(new_ssl(params.server_side, params.server_hostname));
    BaseProtocol* p = app.get();
    return std::make_unique<ssl::detail::SSLProtocol>(loop, SSLContext(self.lock()), std::move(ssl), std::move(app), p,
                                                      params, std::move(waiter), true);
}

Coro<Ref<Transport>> start_tls(Ref<Transport> transport, ssl::SSLContext sslcontext, StartTLSOptions options) {
    if (!transport) throw std::invalid_argument("start_tls: no transport");
    if (transport->is_closing()) throw std::runtime_error("start_tls: the transport is closing");
    SecureLayerParams params = layer_params(options.server_side, options.server_hostname.value_or(std::string()),
                                            options.ssl_handshake_timeout, options.ssl_shutdown_timeout);
    EventLoop& loop = transport->get_loop();
    ssl::detail::SslPtr ssl(sslcontext.impl().new_ssl(params.server_side, params.server_hostname));
    auto waiter = Future<Ref<Transport>>::create(loop);
    // The transport keeps owning its protocol, which now sits on top of TLS.
    BaseProtocol& app = transport->get_protocol();
    auto proto = std::make_unique<ssl::detail::SSLProtocol>(loop, sslcontext, std::move(ssl), nullptr, &app, params,
                                                            waiter, false);
    ssl::detail::SSLProtocol* sp = proto.get();
    // Paused first, so no data reaches the TLS protocol before its
    // connection_made (asyncio does the same).
    transport->pause_reading();
    try {
        transport->set_protocol(std::move(proto));
    } catch (...) {
        transport->resume_reading();
        throw;
    }
    Handle made = loop.call_soon([sp, t = transport] {
        if (!t->is_closing()) sp->connection_made(*t);
    });
    Handle resume = loop.call_soon([t = transport] { t->resume_reading(); });
    try {
        Ref<Transport> secure = co_await std::move(waiter);
        co_return secure;
    } catch (...) {
        made.cancel();
        resume.cancel();
        transport->close();
        throw;
    }
}

}  // namespace tulip
