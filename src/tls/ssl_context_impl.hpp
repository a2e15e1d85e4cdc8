// src/tls/ssl_context_impl.hpp — internal: what an ssl::SSLContext handle
// shares (the SSL_CTX and the settings OpenSSL does not keep), and the
// SecureLayer the network layer calls for each new connection.
#pragma once

#include <openssl/ssl.h>

#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <tulip/tls/ssl_context.hpp>

namespace tulip::ssl {

class SSLContext::Impl final : public SecureLayer {
public:
    explicit Impl(Mode mode);
    ~Impl() override;

    std::unique_ptr<BaseProtocol> wrap(EventLoop& loop, std::unique_ptr<BaseProtocol> app,
                                       const SecureLayerParams& params, Future<Ref<Transport>> waiter) const override;

    // A new SSL for one connection: SNI, the host to verify, the session to
    // resume. Raises std::invalid_argument when the side does not match the
    // context (Python: "Cannot create a client socket with a
    // PROTOCOL_TLS_SERVER context").
    SSL* new_ssl(bool server_side, const std::string& server_hostname) const;

    SSL_CTX* ctx = nullptr;
    Mode mode;
    VerifyMode verify = CERT_NONE;
    bool check_hostname = false;
    bool resumption = true;
    std::string alpn_wire;  // length-prefixed protocol names
    SniCallback sni;
    // The handle the SNI callback and get_extra_info("sslcontext") give back.
    std::weak_ptr<SecureLayer> self;

    // Client sessions by server name (resumption).
    void store_session(const std::string& key, SSL_SESSION* s);
    SSL_SESSION* find_session(const std::string& key) const;  // a new reference, or null

    // SSLKEYLOGFILE
    std::string keylog_path;
    std::mutex keylog_mu;

private:
    mutable std::mutex sessions_mu_;
    std::unordered_map<std::string, SSL_SESSION*> sessions_;
};

// Raw verify-mode / hostname checks shared with start_tls.
int ssl_ex_index();  // SSL ex_data slot holding the session key (std::string*)

}  // namespace tulip::ssl
