// tulip/tls/start_tls.hpp — start_tls: upgrade an open connection to TLS
// (asyncio loop.start_tls; STARTTLS in SMTP, IMAP, PostgreSQL...).
//
//     Ref<Transport> secure = co_await tulip::start_tls(plain, ctx, {.server_hostname = "mail.local"});
//
// The transport's protocol moves on top of the TLS session: it receives no
// second connection_made, its data_received gets the decrypted bytes, and
// writes go through the returned transport (the plain one must not be
// written to any more). The plain transport still owns both protocols, so a
// ProtocolRef taken on it stays valid. On failure (a handshake error or its
// timeout, or cancellation) the connection is closed and the error raised.
//
// The secure transport (also what create_connection/create_server give with
// ssl set) answers get_extra_info with asyncio's keys: "peercert"
// (ssl::PeerCert, absent when the peer sent none), "cipher" (ssl::Cipher),
// "compression" (std::optional<std::string>, always empty: compression is
// off), "ssl_object" (ssl::SSLObject), "sslcontext" (ssl::SSLContext), plus
// "alpn_protocol" and "tls_version" (std::string), and every key of the
// transport below ("peername", "sockname", "socket"). It cannot write_eof
// (TLS has no half-close, as asyncio); close() sends close_notify after the
// buffered data and waits up to ssl_shutdown_timeout for the peer's.
// Cancel safety: not safe: a cancelled start_tls closes the connection.
// Thread safety: loop thread only.
#pragma once

#include <optional>
#include <string>

#include <tulip/core/ref.hpp>
#include <tulip/net/transport.hpp>
#include <tulip/task/coro.hpp>
#include <tulip/tls/ssl_context.hpp>

namespace tulip {

struct StartTLSOptions {
    bool server_side = false;
    std::optional<std::string> server_hostname;   // client: SNI and the name checked
    std::optional<double> ssl_handshake_timeout;  // seconds; 60 by default
    std::optional<double> ssl_shutdown_timeout;   // seconds; 30 by default
};

// Raises std::invalid_argument for a server context with server_side false
// or the reverse, a bad timeout, or a transport that is closing.
Coro<Ref<Transport>> start_tls(Ref<Transport> transport, ssl::SSLContext sslcontext, StartTLSOptions options = {});

}  // namespace tulip
