// ssl::SSLContext over OpenSSL 3 (Python's ssl.SSLContext), SSLObject and
// create_default_context.
#include <tulip/tls/ssl_context.hpp>

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "openssl_util.hpp"
#include "ssl_context_impl.hpp"

namespace tulip::ssl {

namespace {

void free_key(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) { delete static_cast<std::string*>(ptr); }

SSLContext::Impl* impl_of(SSL_CTX* ctx) { return static_cast<SSLContext::Impl*>(SSL_CTX_get_app_data(ctx)); }

// A file the caller named must exist: Python raises FileNotFoundError
// (an OSError) before OpenSSL is asked.
void require_file(const char* what, const std::string& path) {
    if (::access(path.c_str(), R_OK) != 0) {
        int e = errno;
        throw std::system_error(e, std::generic_category(), std::string(what) + ": cannot read '" + path + "'");
    }
}

int new_session_cb(SSL* ssl, SSL_SESSION* sess) {
    auto* key = static_cast<std::string*>(SSL_get_ex_data(ssl, ssl_ex_index()));
    SSLContext::Impl* impl = impl_of(SSL_get_SSL_CTX(ssl));
    if (!key || !impl || !impl->resumption) return 0;
    // No exception may cross OpenSSL's C frames: out of memory, the session
    // is simply not kept for resumption.
    try {
        impl->store_session(*key, sess);
    } catch (...) {
        return 0;
    }
    return 1;  // we keep the reference
}

void keylog_cb(const SSL* ssl, const char* line) {
    SSLContext::Impl* impl = impl_of(SSL_get_SSL_CTX(ssl));
    if (!impl || impl->keylog_path.empty()) return;
    std::lock_guard lk(impl->keylog_mu);
    if (FILE* f = std::fopen(impl->keylog_path.c_str(), "a")) {
        std::fprintf(f, "%s\n", line);
        std::fclose(f);
    }
}

int alpn_select_cb(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
                   void* arg) {
    auto* impl = static_cast<SSLContext::Impl*>(arg);
    if (impl->alpn_wire.empty()) return SSL_TLSEXT_ERR_NOACK;
    unsigned char* sel = nullptr;
    unsigned char sel_len = 0;
    // The server's order decides (the first list given).
    int r = SSL_select_next_proto(&sel, &sel_len, reinterpret_cast<const unsigned char*>(impl->alpn_wire.data()),
                                  static_cast<unsigned>(impl->alpn_wire.size()), in, inlen);
    if (r != OPENSSL_NPN_NEGOTIATED) return SSL_TLSEXT_ERR_NOACK;
    *out = sel;
    *outlen = sel_len;
    return SSL_TLSEXT_ERR_OK;
}

int servername_cb(SSL* ssl, int* alert, void* arg) {
    auto* impl = static_cast<SSLContext::Impl*>(arg);
    if (!impl->sni) return SSL_TLSEXT_ERR_OK;
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    try {
        std::optional<SSLContext> other = impl->sni(name ? std::string_view(name) : std::string_view());
        if (other && other->native_handle() != SSL_get_SSL_CTX(ssl)) SSL_set_SSL_CTX(ssl, other->native_handle());
    } catch (...) {
        // Python: an exception in sni_callback fails the handshake with
        // an internal_error alert.
        *alert = SSL_AD_INTERNAL_ERROR;
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    return SSL_TLSEXT_ERR_OK;
}

int to_openssl(TLSVersion v) {
    switch (v) {
        case TLSVersion::TLSv1_2:
            return TLS1_2_VERSION;
        case TLSVersion::TLSv1_3:
            return TLS1_3_VERSION;
        default:
            return 0;
    }
}

TLSVersion from_openssl(long v, TLSVersion none) {
    switch (v) {
        case TLS1_2_VERSION:
            return TLSVersion::TLSv1_2;
        case TLS1_3_VERSION:
            return TLSVersion::TLSv1_3;
        default:
            return none;
    }
}

std::string asn1_time(const ASN1_TIME* t) {
    BIO* b = BIO_new(BIO_s_mem());
    ASN1_TIME_print(b, t);
    char* p = nullptr;
    long n = BIO_get_mem_data(b, &p);
    std::string s(p, static_cast<std::size_t>(n));
    BIO_free(b);
    return s;
}

PeerCert::Names name_entries(const X509_NAME* name) {
    PeerCert::Names out;
    for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
        const X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
        char key[128];
        OBJ_obj2txt(key, sizeof key, X509_NAME_ENTRY_get_object(e), 0);
        unsigned char* utf8 = nullptr;
        int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
        if (n < 0) continue;
        out.emplace_back(key, std::string(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n)));
        OPENSSL_free(utf8);
    }
    return out;
}

PeerCert describe(X509* x) {
    PeerCert c;
    c.subject = name_entries(X509_get_subject_name(x));
    c.issuer = name_entries(X509_get_issuer_name(x));
    c.not_before = asn1_time(X509_get0_notBefore(x));
    c.not_after = asn1_time(X509_get0_notAfter(x));
    c.version = static_cast<int>(X509_get_version(x)) + 1;
    if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr)) {
        if (char* hex = BN_bn2hex(bn)) {
            c.serial_number = hex;
            OPENSSL_free(hex);
        }
        BN_free(bn);
    }
    auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr));
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names); ++i) {
        const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
        if (g->type == GEN_DNS) {
            const ASN1_IA5STRING* s = g->d.dNSName;
            c.subject_alt_name.emplace_back("DNS", std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                                               static_cast<std::size_t>(ASN1_STRING_length(s))));
        } else if (g->type == GEN_IPADD) {
            const ASN1_OCTET_STRING* s = g->d.iPAddress;
            char buf[INET6_ADDRSTRLEN] = {};
            int len = ASN1_STRING_length(s);
            if (len == 4 || len == 16)
                ::inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s), buf, sizeof buf);
            c.subject_alt_name.emplace_back("IP Address", buf);
        } else if (g->type == GEN_EMAIL) {
            const ASN1_IA5STRING* s = g->d.rfc822Name;
            c.subject_alt_name.emplace_back("email",
                                            std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                                        static_cast<std::size_t>(ASN1_STRING_length(s))));
        } else if (g->type == GEN_URI) {
            const ASN1_IA5STRING* s = g->d.uniformResourceIdentifier;
            c.subject_alt_name.emplace_back("URI", std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                                               static_cast<std::size_t>(ASN1_STRING_length(s))));
        }
    }
    if (names) GENERAL_NAMES_free(names);
    int n = i2d_X509(x, nullptr);
    if (n > 0) {
        c.der.resize(static_cast<std::size_t>(n));
        auto* p = reinterpret_cast<unsigned char*>(c.der.data());
        i2d_X509(x, &p);
    }
    return c;
}

}  // namespace

int ssl_ex_index() {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, free_key);
    return index;
}

// ---- Impl ---------------------------------------------------------------------

SSLContext::Impl::Impl(Mode m) : mode(m) {
    ctx = SSL_CTX_new(TLS_method());
    if (!ctx) detail::throw_ssl_error("SSLContext");
    SSL_CTX_set_app_data(ctx, this);
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    // No compression (CRIME), no renegotiation (refused, as the issue asks).
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    // A whole write is taken at once (our BIO never refuses), and data
    // handed to SSL_write may move between retries.
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select_cb, this);
    SSL_CTX_set_tlsext_servername_callback(ctx, servername_cb);
    SSL_CTX_set_tlsext_servername_arg(ctx, this);
    if (mode == PROTOCOL_TLS_CLIENT) {
        verify = CERT_REQUIRED;
        check_hostname = true;
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(ctx, new_session_cb);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    }
}

SSLContext::Impl::~Impl() {
    for (auto& [k, s] : sessions_) SSL_SESSION_free(s);
    SSL_CTX_free(ctx);
}

void SSLContext::Impl::store_session(const std::string& key, SSL_SESSION* s) {
    std::lock_guard lk(sessions_mu_);
    auto [it, fresh] = sessions_.try_emplace(key, s);
    if (!fresh) {
        SSL_SESSION_free(it->second);
        it->second = s;
    } else if (sessions_.size() > 1024) {
        // Bounded: a client talking to many hosts forgets one of them.
        auto victim = sessions_.begin();
        if (victim == it) ++victim;
        SSL_SESSION_free(victim->second);
        sessions_.erase(victim);
    }
}

SSL_SESSION* SSLContext::Impl::find_session(const std::string& key) const {
    std::lock_guard lk(sessions_mu_);
    auto it = sessions_.find(key);
    if (it == sessions_.end()) return nullptr;
    if (!SSL_SESSION_is_resumable(it->second)) return nullptr;
    SSL_SESSION_up_ref(it->second);
    return it->second;
}

SSL* SSLContext::Impl::new_ssl(bool server_side, const std::string& host) const {
    if (server_side && mode == PROTOCOL_TLS_CLIENT)
        throw std::invalid_argument("Cannot create a server socket with a PROTOCOL_TLS_CLIENT context");
    if (!server_side && mode == PROTOCOL_TLS_SERVER)
        throw std::invalid_argument("Cannot create a client socket with a PROTOCOL_TLS_SERVER context");
    if (!server_side && check_hostname && host.empty())
        throw std::invalid_argument("check_hostname requires server_hostname");
    SSL* ssl = SSL_new(ctx);
    if (!ssl) detail::throw_ssl_error("SSL_new");
    if (server_side) {
        SSL_set_accept_state(ssl);
        return ssl;
    }
    SSL_set_connect_state(ssl);
    if (!host.empty()) {
        unsigned char addr[16];
        bool is_ip = ::inet_pton(AF_INET, host.c_str(), addr) == 1 || ::inet_pton(AF_INET6, host.c_str(), addr) == 1;
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
        // SNI is for names only (RFC 6066), never an address.
        if (!is_ip && !SSL_set_tlsext_host_name(ssl, host.c_str())) {
            SSL_free(ssl);
            detail::throw_ssl_error("server_hostname '" + host + "'");
        }
        if (check_hostname) {
            int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                           : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
            if (!ok) {
                SSL_free(ssl);
                detail::throw_ssl_error("server_hostname '" + host + "'");
            }
            X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        }
        if (resumption) {
            std::string* key = nullptr;
            try {
                key = new std::string(host);
            } catch (...) {
                SSL_free(ssl);
                throw;
            }
            SSL_set_ex_data(ssl, ssl_ex_index(), key);
            if (SSL_SESSION* s = find_session(host)) {
                SSL_set_session(ssl, s);
                SSL_SESSION_free(s);
            }
        }
    }
    return ssl;
}

// ---- SSLContext ------------------------------------------------------------------

SSLContext::SSLContext(Mode mode) {
    if (mode != PROTOCOL_TLS_CLIENT && mode != PROTOCOL_TLS_SERVER)
        throw std::invalid_argument("SSLContext: mode must be PROTOCOL_TLS_CLIENT or PROTOCOL_TLS_SERVER");
    auto impl = std::make_shared<Impl>(mode);
    impl->self = impl;
    layer_ = std::move(impl);
}

SSLContext::Impl& SSLContext::impl() const noexcept { return *static_cast<Impl*>(layer_.get()); }

std::optional<SSLContext> SSLContext::from(const SecureContext& c) {
    auto* impl = dynamic_cast<const Impl*>(c.layer());
    if (!impl) return std::nullopt;
    auto layer = impl->self.lock();
    if (!layer) return std::nullopt;
    return SSLContext(std::move(layer));
}

Mode SSLContext::mode() const noexcept { return impl().mode; }
ssl_ctx_st* SSLContext::native_handle() const noexcept { return impl().ctx; }

void SSLContext::load_cert_chain(const std::string& certfile, const std::string& keyfile, const std::string& password) {
    require_file("load_cert_chain", certfile);
    const std::string& kf = keyfile.empty() ? certfile : keyfile;
    if (!keyfile.empty()) require_file("load_cert_chain", keyfile);
    SSL_CTX* ctx = impl().ctx;
    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(ctx, certfile.c_str()) != 1)
        detail::throw_ssl_error("load_cert_chain: certificate '" + certfile + "'");
    // The password goes to OpenSSL's callback only for this call.
    struct Pw {
        const std::string* s;
        static int cb(char* buf, int size, int, void* u) {
            auto* p = static_cast<Pw*>(u);
            int n = static_cast<int>(std::min<std::size_t>(p->s->size(), static_cast<std::size_t>(size)));
            std::memcpy(buf, p->s->data(), static_cast<std::size_t>(n));
            return n;
        }
    } pw{&password};
    SSL_CTX_set_default_passwd_cb(ctx, Pw::cb);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, &pw);
    int ok = SSL_CTX_use_PrivateKey_file(ctx, kf.c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_set_default_passwd_cb(ctx, nullptr);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, nullptr);
    if (ok != 1) detail::throw_ssl_error("load_cert_chain: private key '" + kf + "'");
    if (SSL_CTX_check_private_key(ctx) != 1)
        detail::throw_ssl_error("load_cert_chain: the key '" + kf + "' does not match the certificate '" + certfile +
                                "'");
}

void SSLContext::load_verify_locations(const std::string& cafile, const std::string& capath,
                                       const std::string& cadata) {
    if (cafile.empty() && capath.empty() && cadata.empty())
        throw std::invalid_argument("load_verify_locations: cafile, capath or cadata must be given");
    SSL_CTX* ctx = impl().ctx;
    ERR_clear_error();
    if (!cafile.empty()) {
        require_file("load_verify_locations", cafile);
        if (SSL_CTX_load_verify_file(ctx, cafile.c_str()) != 1)
            detail::throw_ssl_error("load_verify_locations: cafile '" + cafile + "'");
    }
    if (!capath.empty()) {
        require_file("load_verify_locations", capath);
        if (SSL_CTX_load_verify_dir(ctx, capath.c_str()) != 1)
            detail::throw_ssl_error("load_verify_locations: capath '" + capath + "'");
    }
    if (!cadata.empty()) {
        BIO* b = BIO_new_mem_buf(cadata.data(), static_cast<int>(cadata.size()));
        X509_STORE* store = SSL_CTX_get_cert_store(ctx);
        int count = 0;
        while (X509* x = PEM_read_bio_X509(b, nullptr, nullptr, nullptr)) {
            X509_STORE_add_cert(store, x);  // a duplicate is not an error
            X509_free(x);
            ++count;
        }
        BIO_free(b);
        ERR_clear_error();  // the end of the PEM data reads as an error
        if (count == 0)
            throw SSLError(0, "X509", "NO_CERTIFICATE_OR_CRL_FOUND",
                           "load_verify_locations: cadata holds no PEM certificate");
    }
}

void SSLContext::load_default_certs() {
    ERR_clear_error();
    if (SSL_CTX_set_default_verify_paths(impl().ctx) != 1) detail::throw_ssl_error("load_default_certs");
}

namespace {
void apply_verify(SSLContext::Impl& im) {
    int flags = SSL_VERIFY_NONE;
    if (im.verify != CERT_NONE) flags = SSL_VERIFY_PEER;
    // A server with CERT_REQUIRED refuses a client without a certificate; a
    // client always fails on a bad server certificate (Python's rules).
    if (im.verify == CERT_REQUIRED && im.mode == PROTOCOL_TLS_SERVER) flags |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(im.ctx, flags, nullptr);
}
}  // namespace

void SSLContext::set_verify_mode(VerifyMode mode) {
    if (mode != CERT_NONE && mode != CERT_OPTIONAL && mode != CERT_REQUIRED)
        throw std::invalid_argument("verify_mode: not CERT_NONE, CERT_OPTIONAL or CERT_REQUIRED");
    Impl& im = impl();
    if (mode == CERT_NONE && im.check_hostname)
        throw std::invalid_argument("Cannot set verify_mode to CERT_NONE when check_hostname is enabled.");
    im.verify = mode;
    apply_verify(im);
}
VerifyMode SSLContext::verify_mode() const noexcept { return impl().verify; }

void SSLContext::set_check_hostname(bool on) {
    Impl& im = impl();
    if (on && im.verify == CERT_NONE) {
        im.verify = CERT_REQUIRED;
        apply_verify(im);
    }
    im.check_hostname = on;
}
bool SSLContext::check_hostname() const noexcept { return impl().check_hostname; }

void SSLContext::set_alpn_protocols(const std::vector<std::string>& protocols) {
    std::string wire;
    for (const auto& p : protocols) {
        if (p.empty() || p.size() > 255)
            throw std::invalid_argument("set_alpn_protocols: a protocol name must be 1 to 255 bytes, got " +
                                        std::to_string(p.size()));
        wire += static_cast<char>(p.size());
        wire += p;
    }
    Impl& im = impl();
    // The client's offer (a server ignores it).
    if (SSL_CTX_set_alpn_protos(im.ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                                static_cast<unsigned>(wire.size())) != 0)
        detail::throw_ssl_error("set_alpn_protocols");
    im.alpn_wire = std::move(wire);
}

void SSLContext::set_ciphers(const std::string& ciphers) {
    ERR_clear_error();
    if (SSL_CTX_set_cipher_list(impl().ctx, ciphers.c_str()) != 1)
        detail::throw_ssl_error("set_ciphers('" + ciphers + "')", "No cipher can be selected.");
}

void SSLContext::set_ciphersuites(const std::string& suites) {
    ERR_clear_error();
    if (SSL_CTX_set_ciphersuites(impl().ctx, suites.c_str()) != 1)
        detail::throw_ssl_error("set_ciphersuites('" + suites + "')", "No cipher suite can be selected.");
}

void SSLContext::set_minimum_version(TLSVersion v) {
    if (v == TLSVersion::MAXIMUM_SUPPORTED) v = TLSVersion::TLSv1_3;
    if (!SSL_CTX_set_min_proto_version(impl().ctx, to_openssl(v))) detail::throw_ssl_error("set_minimum_version");
}
void SSLContext::set_maximum_version(TLSVersion v) {
    if (v == TLSVersion::MINIMUM_SUPPORTED) v = TLSVersion::TLSv1_2;
    if (!SSL_CTX_set_max_proto_version(impl().ctx, to_openssl(v))) detail::throw_ssl_error("set_maximum_version");
}
TLSVersion SSLContext::minimum_version() const noexcept {
    return from_openssl(SSL_CTX_get_min_proto_version(impl().ctx), TLSVersion::MINIMUM_SUPPORTED);
}
TLSVersion SSLContext::maximum_version() const noexcept {
    return from_openssl(SSL_CTX_get_max_proto_version(impl().ctx), TLSVersion::MAXIMUM_SUPPORTED);
}

void SSLContext::set_sni_callback(SniCallback cb) { impl().sni = std::move(cb); }

void SSLContext::set_num_tickets(std::size_t n) {
    if (mode() != PROTOCOL_TLS_SERVER) throw std::invalid_argument("num_tickets: SSLContext is not a server context.");
    SSL_CTX_set_num_tickets(impl().ctx, n);
}
std::size_t SSLContext::num_tickets() const noexcept { return SSL_CTX_get_num_tickets(impl().ctx); }

void SSLContext::set_session_resumption(bool on) { impl().resumption = on; }
bool SSLContext::session_resumption() const noexcept { return impl().resumption; }

void SSLContext::set_keylog_filename(const std::string& path) {
    Impl& im = impl();
    if (!path.empty()) {
        FILE* f = std::fopen(path.c_str(), "a");
        if (!f) throw std::system_error(errno, std::generic_category(), "keylog_filename: cannot open '" + path + "'");
        std::fclose(f);
    }
    {
        std::lock_guard lk(im.keylog_mu);
        im.keylog_path = path;
    }
    SSL_CTX_set_keylog_callback(im.ctx, path.empty() ? nullptr : keylog_cb);
}

SSLContext create_default_context(Purpose purpose, const std::string& cafile, const std::string& capath,
                                  const std::string& cadata) {
    SSLContext ctx(purpose == Purpose::SERVER_AUTH ? PROTOCOL_TLS_CLIENT : PROTOCOL_TLS_SERVER);
    if (!cafile.empty() || !capath.empty() || !cadata.empty())
        ctx.load_verify_locations(cafile, capath, cadata);
    else if (purpose == Purpose::SERVER_AUTH)
        ctx.load_default_certs();
    return ctx;
}

std::string openssl_version() { return OpenSSL_version(OPENSSL_VERSION); }

// ---- SSLObject -------------------------------------------------------------------

SSLObject::SSLObject(ssl_st* ssl) noexcept : ssl_(ssl) {
    if (ssl_) SSL_up_ref(ssl_);
}
SSLObject::SSLObject(const SSLObject& o) noexcept : SSLObject(o.ssl_) {}
SSLObject::~SSLObject() {
    if (ssl_) SSL_free(ssl_);
}

std::string SSLObject::version() const { return ssl_ ? SSL_get_version(ssl_) : ""; }

std::optional<Cipher> SSLObject::cipher() const {
    const SSL_CIPHER* c = ssl_ ? SSL_get_current_cipher(ssl_) : nullptr;
    if (!c) return std::nullopt;
    return Cipher{SSL_CIPHER_get_name(c), SSL_CIPHER_get_version(c), SSL_CIPHER_get_bits(c, nullptr)};
}

std::optional<PeerCert> SSLObject::getpeercert() const {
    if (!ssl_) return std::nullopt;
    detail::X509Ptr x(SSL_get1_peer_certificate(ssl_));
    if (!x) return std::nullopt;
    return describe(x.get());
}

std::string SSLObject::selected_alpn_protocol() const {
    const unsigned char* p = nullptr;
    unsigned int n = 0;
    if (ssl_) SSL_get0_alpn_selected(ssl_, &p, &n);
    return p ? std::string(reinterpret_cast<const char*>(p), n) : std::string();
}

std::string SSLObject::server_hostname() const {
    const char* n = ssl_ ? SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name) : nullptr;
    return n ? n : "";
}
bool SSLObject::server_side() const { return ssl_ && SSL_is_server(ssl_); }
bool SSLObject::session_reused() const { return ssl_ && SSL_session_reused(ssl_); }

}  // namespace tulip::ssl
