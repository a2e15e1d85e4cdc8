// tulip/tls.hpp — TLS over OpenSSL 3 (Python's ssl module and asyncio's
// sslproto.py).
//
//   tls/ssl_context.hpp  ssl::SSLContext, create_default_context, SSLObject
//   tls/ssl_error.hpp    ssl::SSLError, SSLCertVerificationError
//   tls/start_tls.hpp    start_tls
// ConnectOptions::ssl and ServerOptions::ssl (net/) take an ssl::SSLContext.
#pragma once

#include <tulip/net.hpp>
#include <tulip/tls/ssl_context.hpp>
#include <tulip/tls/ssl_error.hpp>
#include <tulip/tls/start_tls.hpp>
