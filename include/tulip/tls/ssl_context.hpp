// tulip/tls/ssl_context.hpp — SSLContext over OpenSSL 3 (Python's
// ssl.SSLContext and ssl.create_default_context), and SSLObject, the view of
// one connection's TLS session that get_extra_info("ssl_object") returns.
//
//     auto ctx = tulip::ssl::create_default_context();          // a client
//     ctx.load_verify_locations("ca.pem");
//     tulip::StreamOptions o;
//     o.connect.ssl = ctx;
//     auto [r, w] = co_await tulip::open_connection("localhost", 8443, o);
//
//     tulip::ssl::SSLContext srv(tulip::ssl::PROTOCOL_TLS_SERVER);
//     srv.load_cert_chain("cert.pem", "key.pem");
//
// A context is a shared handle: copies are the same context (as Python's
// references). Configure it before the first connection uses it; from then on
// it may be used by any number of connections on any threads.
//
// Defaults are Python's: a client context verifies the peer
// (CERT_REQUIRED) and checks the host name; a server context asks no client
// certificate (CERT_NONE). TLS 1.2 is the minimum; renegotiation is refused;
// compression is off. Unlike Python, a client context resumes sessions on its
// own: the last session per server name is kept and offered again (see
// docs/asyncio.md).
// Errors: std::invalid_argument for a bad argument, ssl::SSLError (naming the
// file and OpenSSL's reason) when OpenSSL refuses a file or a setting.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tulip/net/secure_layer.hpp>
#include <tulip/tls/ssl_error.hpp>

// OpenSSL's handles, without its headers.
struct ssl_ctx_st;
struct ssl_st;

namespace tulip::ssl {

enum Mode { PROTOCOL_TLS_CLIENT, PROTOCOL_TLS_SERVER };
enum class Purpose { SERVER_AUTH, CLIENT_AUTH };  // create_default_context: for a client / a server
enum VerifyMode { CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED };
enum class TLSVersion { MINIMUM_SUPPORTED, TLSv1_2, TLSv1_3, MAXIMUM_SUPPORTED };

// A certificate as Python's SSLSocket.getpeercert() describes it.
struct PeerCert {
    using Names = std::vector<std::pair<std::string, std::string>>;
    Names subject;  // {"commonName", "localhost"}, ...
    Names issuer;
    Names subject_alt_name;  // {"DNS", "localhost"}, {"IP Address", "127.0.0.1"}
    std::string not_before;  // "Jan  1 00:00:00 2026 GMT", as Python prints it
    std::string not_after;
    std::string serial_number;  // upper-case hex
    int version = 0;            // 3 for X.509 v3
    std::string der;            // getpeercert(binary_form=True)
};

// SSLSocket.cipher(): (name, protocol, secret bits).
struct Cipher {
    std::string name;
    std::string protocol;
    int secret_bits = 0;
};

// One connection's TLS session (Python's ssl.SSLObject, read-only). Holds a
// reference on OpenSSL's SSL object: valid after the connection is gone.
class SSLObject {
public:
    SSLObject() noexcept = default;
    explicit SSLObject(ssl_st* ssl) noexcept;  // takes a new reference
    SSLObject(const SSLObject& o) noexcept;
    SSLObject(SSLObject&& o) noexcept : ssl_(std::exchange(o.ssl_, nullptr)) {}
    SSLObject& operator=(SSLObject o) noexcept {
        std::swap(ssl_, o.ssl_);
        return *this;
    }
    ~SSLObject();
    explicit operator bool() const noexcept { return ssl_ != nullptr; }

    std::string version() const;                  // "TLSv1.3"
    std::optional<Cipher> cipher() const;         // none before the handshake
    std::optional<PeerCert> getpeercert() const;  // none when the peer sent none
    std::string selected_alpn_protocol() const;   // "" when none was agreed
    std::string server_hostname() const;          // the SNI name sent / received
    bool server_side() const;
    bool session_reused() const;
    ssl_st* native_handle() const noexcept { return ssl_; }

private:
    ssl_st* ssl_ = nullptr;
};

class SSLContext : public SecureContext {
public:
    explicit SSLContext(Mode mode = PROTOCOL_TLS_CLIENT);

    Mode mode() const noexcept;
    bool server_side() const noexcept { return mode() == PROTOCOL_TLS_SERVER; }

    // The certificate chain (PEM, leaf first) and its private key (PEM; in
    // certfile when keyfile is empty); password decrypts an encrypted key.
    // The key must match the certificate.
    void load_cert_chain(const std::string& certfile, const std::string& keyfile = {},
                         const std::string& password = {});
    // Trusted CAs: a PEM file, a hashed directory (c_rehash), PEM text.
    void load_verify_locations(const std::string& cafile = {}, const std::string& capath = {},
                               const std::string& cadata = {});
    // The system's trusted CAs (Debian: /etc/ssl/certs).
    void load_default_certs();
    void set_default_verify_paths() { load_default_certs(); }

    // Turning check_hostname on raises verify_mode from CERT_NONE to
    // CERT_REQUIRED; CERT_NONE with check_hostname on raises
    // std::invalid_argument (Python's rules).
    void set_verify_mode(VerifyMode mode);
    VerifyMode verify_mode() const noexcept;
    void set_check_hostname(bool on);
    bool check_hostname() const noexcept;

    // ALPN, most preferred first ("h2", "http/1.1"); each 1..255 bytes. A
    // server picks the first of its list the client offers; none in common
    // means no ALPN (not an error, as OpenSSL's default).
    void set_alpn_protocols(const std::vector<std::string>& protocols);
    // TLS 1.2 ciphers (OpenSSL cipher list) and TLS 1.3 suites
    // ("TLS_AES_128_GCM_SHA256"); an empty match raises SSLError.
    void set_ciphers(const std::string& ciphers);
    void set_ciphersuites(const std::string& suites);
    void set_minimum_version(TLSVersion v);
    void set_maximum_version(TLSVersion v);
    TLSVersion minimum_version() const noexcept;
    TLSVersion maximum_version() const noexcept;

    // Server: a callback per handshake with the name the client asked for
    // (SNI), which may return another server context (another certificate)
    // for that connection (Python's sni_callback).
    using SniCallback = std::function<std::optional<SSLContext>(std::string_view server_name)>;
    void set_sni_callback(SniCallback cb);

    // Client session resumption (on by default; see above).
    void set_session_resumption(bool on);
    bool session_resumption() const noexcept;

    // Writes the session secrets NSS-style (SSLKEYLOGFILE) for Wireshark.
    void set_keylog_filename(const std::string& path);

    ssl_ctx_st* native_handle() const noexcept;

    // The same context as `ctx` (true when both handles share it).
    bool operator==(const SSLContext& o) const noexcept { return layer_ == o.layer_; }

    // For the TLS layer: the SSLContext a SecureContext holds, or an empty
    // optional when it is not one.
    static std::optional<SSLContext> from(const SecureContext& c);

    class Impl;
    Impl& impl() const noexcept;

private:
    explicit SSLContext(std::shared_ptr<SecureLayer> layer) noexcept : SecureContext(std::move(layer)) {}
};

// Python's ssl.create_default_context: for Purpose::SERVER_AUTH a client
// context (CERT_REQUIRED, check_hostname) with the system's CAs, or with
// cafile/capath/cadata when one is given; for CLIENT_AUTH a server context.
SSLContext create_default_context(Purpose purpose = Purpose::SERVER_AUTH, const std::string& cafile = {},
                                  const std::string& capath = {}, const std::string& cadata = {});

// OpenSSL's version ("OpenSSL 3.0.19 1 Jul 2025"), as ssl.OPENSSL_VERSION.
std::string openssl_version();

}  // namespace tulip::ssl
