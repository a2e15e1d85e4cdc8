// The TLS layer over a stream transport (asyncio sslproto.py, 3.11+): see
// ssl_protocol.hpp for the design.
#include "ssl_protocol.hpp"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <system_error>

#include <tulip/core/exceptions.hpp>
#include <tulip/tls/ssl_error.hpp>

#include "openssl_util.hpp"
#include "ssl_context_impl.hpp"

namespace tulip::ssl::detail {

namespace {

constexpr std::size_t kMaxPlainRead = 256 * 1024;  // asyncio sslproto's max_size
constexpr std::size_t kMaxCarry = 256 * 1024;      // paused app: stop reading the socket past this

// The plaintext buffer of this thread's TLS reads (not the transports'
// read buffer: the ciphertext being decrypted lives there).
char* plain_buffer() {
    thread_local std::unique_ptr<char[]> buf;
    if (!buf) buf.reset(new char[kMaxPlainRead]);
    return buf.get();
}

// ---- our memory BIO: reads from SSLProtocol::in_, writes to out_ ----------------

int bio_create(BIO* b) {
    BIO_set_init(b, 1);
    return 1;
}

int bio_read_cb(BIO* b, char* out, int len) {
    BIO_clear_retry_flags(b);
    auto* p = static_cast<SSLProtocol*>(BIO_get_data(b));
    int n = p ? p->bio_read(out, len) : 0;
    if (n <= 0) {
        BIO_set_retry_read(b);
        return -1;
    }
    return n;
}

int bio_write_cb(BIO* b, const char* data, int len) {
    BIO_clear_retry_flags(b);
    auto* p = static_cast<SSLProtocol*>(BIO_get_data(b));
    if (!p) return -1;
    try {
        p->bio_write(data, len);
    } catch (...) {  // out of memory
        return -1;
    }
    return len;
}

long bio_ctrl_cb(BIO*, int cmd, long, void*) {
    switch (cmd) {
        case BIO_CTRL_FLUSH:
            return 1;
        case BIO_CTRL_PUSH:
        case BIO_CTRL_POP:
            return 0;
        default:
            return 0;
    }
}

BIO_METHOD* bio_method() {
    static BIO_METHOD* m = [] {
        BIO_METHOD* meth = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "tulip transport");
        BIO_meth_set_create(meth, bio_create);
        BIO_meth_set_read(meth, bio_read_cb);
        BIO_meth_set_write(meth, bio_write_cb);
        BIO_meth_set_ctrl(meth, bio_ctrl_cb);
        return meth;
    }();
    return m;
}

// SSL_get_error must not see a stale error; an empty queue is the common
// case, and peeking is cheaper than ERR_clear_error's walk of every slot.
inline void clear_errors() noexcept {
    if (ERR_peek_error() != 0) ERR_clear_error();
}

std::exception_ptr connection_reset(const char* what) { return make_os_error(ECONNRESET, what); }

bool is_os_error(std::exception_ptr e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::system_error&) {
        return true;
    } catch (...) {
        return false;
    }
}

}  // namespace

// ---- SSLProtocol ----------------------------------------------------------------------

SSLProtocol::SSLProtocol(EventLoop& loop, SSLContext ctx, SslPtr&& ssl, std::unique_ptr<BaseProtocol> app_owned,
                         BaseProtocol* app, const SecureLayerParams& params, Future<Ref<Transport>> waiter,
                         bool call_connection_made)
    : loop_(&loop), ctx_(std::move(ctx)), ssl_(ssl.get()), app_owned_(std::move(app_owned)), app_(app), params_(params),
      waiter_(std::move(waiter)), call_connection_made_(call_connection_made) {
    // start_tls: the protocol saw connection_made on the plain transport,
    // so it is owed exactly one connection_lost, even if the handshake fails.
    if (!call_connection_made_) app_state_ = AppState::made;
    app_stream_ = dynamic_cast<Protocol*>(app_);
    app_buffered_ = dynamic_cast<BufferedProtocol*>(app_);
    if (!app_stream_ && !app_buffered_)
        throw std::invalid_argument("a TLS transport needs a Protocol or a BufferedProtocol");
    bio_ = BIO_new(bio_method());
    if (!bio_) throw std::bad_alloc();
    BIO_set_data(bio_, this);
    SSL_set_bio(ssl_, bio_, bio_);  // one BIO both ways; SSL owns it (one reference)
    (void)ssl.release();            // ours from here (nothing below throws)
}

SSLProtocol::~SSLProtocol() {
    handshake_timer_.cancel();
    shutdown_timer_.cancel();
    read_soon_.cancel();
    write_soon_.cancel();
    BIO_set_data(bio_, nullptr);
    SSL_free(ssl_);
}

int SSLProtocol::bio_read(char* out, int len) noexcept {
    std::size_t n = std::min(in_.size(), static_cast<std::size_t>(len));
    if (n == 0) return 0;
    std::memcpy(out, in_.data(), n);
    in_.remove_prefix(n);
    return static_cast<int>(n);
}

void SSLProtocol::bio_write(const char* data, int len) { out_.append(data, static_cast<std::size_t>(len)); }

void SSLProtocol::connection_made(Transport& transport) {
    raw_ = &transport;
    try {
        app_transport_ = Ref<SSLTransport>(new SSLTransport(Ref<Transport>(&transport), this));
        start_handshake();
    } catch (...) {
        // (bad_alloc) The raw transport closes, but connection_lost does not
        // follow a connection_made that failed: whoever waits for the
        // handshake (open_connection, start_tls) must hear of it here.
        handshake_timer_.cancel();
        if (app_transport_) app_transport_->mark_closed();
        app_transport_ = {};
        state_ = State::unwrapped;
        raw_ = nullptr;
        wakeup_waiter(std::current_exception());
        throw;
    }
}

void SSLProtocol::start_handshake() {
    state_ = State::handshake;
    handshake_timer_ = loop_->call_later(params_.handshake_timeout, [this] { check_handshake_timeout(); });
    do_handshake();
}

void SSLProtocol::check_handshake_timeout() {
    if (state_ != State::handshake) return;
    char msg[128];
    std::snprintf(msg, sizeof msg, "SSL handshake is taking longer than %g seconds: aborting the connection",
                  params_.handshake_timeout);
    // asyncio raises ConnectionAbortedError.
    fatal_error(make_os_error(ECONNABORTED, msg), "SSL handshake timed out");
}

void SSLProtocol::do_handshake() {
    clear_errors();
    int r = SSL_do_handshake(ssl_);
    if (r == 1) return on_handshake_complete(nullptr);
    bool again = false;
    std::exception_ptr err = ssl_failure(r, &again, "handshake");
    if (again) return process_outgoing();
    on_handshake_complete(err);
}

std::exception_ptr SSLProtocol::ssl_failure(int ret, bool* again, const char* op) {
    int e = SSL_get_error(ssl_, ret);
    *again = false;
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        *again = true;
        return nullptr;
    }
    if (e == SSL_ERROR_ZERO_RETURN) {
        return std::make_exception_ptr(
            SSLZeroReturnError(0, "SSL", "ZERO_RETURN", "TLS/SSL connection has been closed (EOF)"));
    }
    // A certificate that did not verify: say why, and for which host.
    long vr = SSL_get_verify_result(ssl_);
    unsigned long code = ERR_peek_error();
    if (vr != X509_V_OK && ERR_GET_REASON(code) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        clear_errors();
        std::string why = X509_verify_cert_error_string(vr);
        std::string what = "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: " + why;
        if (vr == X509_V_ERR_HOSTNAME_MISMATCH || vr == X509_V_ERR_IP_ADDRESS_MISMATCH)
            what += ", the certificate is not valid for '" + params_.server_hostname + "'";
        else if (!params_.server_hostname.empty())
            what += " (connecting to '" + params_.server_hostname + "')";
        return std::make_exception_ptr(SSLCertVerificationError(vr, why, what));
    }
    if (e == SSL_ERROR_SSL) return make_ssl_error(std::string("TLS ") + op);
    if (e == SSL_ERROR_SYSCALL && code == 0)
        return std::make_exception_ptr(
            SSLEOFError(0, "SSL", "UNEXPECTED_EOF_WHILE_READING", "EOF occurred in violation of protocol"));
    return make_ssl_error(std::string("TLS ") + op);
}

void SSLProtocol::on_handshake_complete(std::exception_ptr exc) {
    handshake_timer_.cancel();
    if (exc) {
        // The alert OpenSSL wrote (bad certificate, unknown CA...) goes out
        // before the connection closes, so the peer learns why.
        state_ = State::unwrapped;
        if (raw_ && !out_.empty()) {
            std::string alert = std::move(out_);
            out_.clear();
            try {
                raw_->write(alert);
            } catch (...) {}
        }
        wakeup_waiter(exc);
        if (loop_->get_debug())
            log(
                LogLevel::debug, std::string("SSL handshake failed: ") + [&] {
                    try {
                        std::rethrow_exception(exc);
                    } catch (const std::exception& e) {
                        return std::string(e.what());
                    } catch (...) {
                        return std::string("unknown error");
                    }
                }());
        lost_exc_ = exc;
        if (raw_) raw_->close();
        return;
    }
    state_ = State::wrapped;
    handshake_done_ = true;
    process_outgoing();  // the handshake's last flight (a server's session tickets)
    if (call_connection_made_) {
        app_state_ = AppState::made;
        try {
            if (app_stream_)
                app_stream_->connection_made(*app_transport_);
            else
                app_buffered_->connection_made(*app_transport_);
        } catch (...) {
            fatal_error(std::current_exception(), "Error on connection_made() of the application protocol");
            wakeup_waiter(std::current_exception());
            return;
        }
    }
    wakeup_waiter(nullptr);
    if (state_ != State::wrapped) return;  // connection_made closed us
    if (!backlog_.empty()) do_write();
    do_read();  // application data that came with the handshake
}

void SSLProtocol::wakeup_waiter(std::exception_ptr exc) {
    if (!waiter_) return;
    Future<Ref<Transport>> w = std::move(waiter_);
    waiter_ = {};
    if (w.done()) return;  // cancelled
    if (exc)
        w.set_exception(exc);
    else
        w.set_result(Ref<Transport>(app_transport_));
}

void SSLProtocol::data_received(std::string_view data) {
    if (state_ == State::unwrapped) return;
    if (carry_.empty()) {
        in_ = data;
    } else {
        carry_.append(data);
        in_ = carry_;
    }
    switch (state_) {
        case State::handshake:
            do_handshake();
            break;
        case State::wrapped:
            do_read();
            break;
        case State::flushing:
            do_flush();
            break;
        case State::shutdown:
            do_shutdown();
            break;
        case State::unwrapped:
            break;
    }
    stash_input();
}

void SSLProtocol::stash_input() {
    if (in_.empty()) {
        carry_.clear();
        in_ = {};
        return;
    }
    if (!carry_.empty() && in_.data() >= carry_.data() && in_.data() <= carry_.data() + carry_.size()) {
        carry_.erase(0, static_cast<std::size_t>(in_.data() - carry_.data()));
    } else {
        carry_.assign(in_);
    }
    in_ = carry_;
    // An application that stopped reading must not make us buffer without
    // bound: stop reading the socket (asyncio's _control_ssl_reading).
    if (carry_.size() > kMaxCarry && raw_ && raw_->is_reading()) raw_->pause_reading();
}

void SSLProtocol::do_read() {
    if (state_ != State::wrapped && state_ != State::flushing) return;
    if (app_reading_paused_) return;
    if (app_buffered_)
        do_read_buffered();
    else
        do_read_copied();
}

void SSLProtocol::do_read_copied() {
    char* buf = plain_buffer();
    bool zero = false;
    for (;;) {
        std::size_t total = 0;
        bool again = false;
        while (total < kMaxPlainRead) {
            std::size_t n = 0;
            clear_errors();
            int r = SSL_read_ex(ssl_, buf + total, kMaxPlainRead - total, &n);
            if (r == 1) {
                total += n;
                // Nothing left to decrypt: the next call could only say
                // WANT_READ (OpenSSL's buffers, read-ahead included, are
                // what SSL_has_pending reports).
                if (in_.empty() && !SSL_has_pending(ssl_)) {
                    again = true;
                    break;
                }
                continue;
            }
            std::exception_ptr err = ssl_failure(r, &again, "read");
            if (again) break;
            if (SSL_get_error(ssl_, r) == SSL_ERROR_ZERO_RETURN) {
                zero = true;
                break;
            }
            if (total) {  // deliver what came before the error
                try {
                    app_stream_->data_received(std::string_view(buf, total));
                } catch (...) {}
            }
            fatal_error(err, "Fatal error on SSL protocol");
            return;
        }
        process_outgoing();  // session tickets, key updates
        if (total) {
            try {
                app_stream_->data_received(std::string_view(buf, total));
            } catch (...) {
                fatal_error(std::current_exception(), "Fatal error: protocol.data_received() call failed.");
                return;
            }
            if (state_ != State::wrapped && state_ != State::flushing) return;
            if (app_reading_paused_) return;
        }
        if (again || zero || total < kMaxPlainRead) break;
    }
    if (zero) {
        // close_notify from the peer (asyncio: SSLZeroReturnError in _do_read).
        call_eof_received();
        start_shutdown();
    }
}

void SSLProtocol::do_read_buffered() {
    bool zero = false;
    for (;;) {
        std::span<char> buf;
        try {
            buf = app_buffered_->get_buffer(static_cast<std::size_t>(-1));
            if (buf.empty()) throw std::runtime_error("get_buffer() returned an empty buffer");
        } catch (...) {
            fatal_error(std::current_exception(), "Fatal error: protocol.get_buffer() call failed.");
            return;
        }
        std::size_t n = 0;
        clear_errors();
        int r = SSL_read_ex(ssl_, buf.data(), buf.size(), &n);
        if (r != 1) {
            bool again = false;
            std::exception_ptr err = ssl_failure(r, &again, "read");
            if (again) break;
            if (SSL_get_error(ssl_, r) == SSL_ERROR_ZERO_RETURN) {
                zero = true;
                break;
            }
            fatal_error(err, "Fatal error on SSL protocol");
            return;
        }
        try {
            app_buffered_->buffer_updated(n);
        } catch (...) {
            fatal_error(std::current_exception(), "Fatal error: protocol.buffer_updated() call failed.");
            return;
        }
        if (state_ != State::wrapped && state_ != State::flushing) return;
        if (app_reading_paused_) return;
    }
    process_outgoing();
    if (zero) {
        call_eof_received();
        start_shutdown();
    }
}

void SSLProtocol::call_eof_received() {
    if (app_state_ != AppState::made) return;
    app_state_ = AppState::eof;
    try {
        bool keep_open = app_stream_ ? app_stream_->eof_received() : app_buffered_->eof_received();
        if (keep_open) log(LogLevel::warning, "returning true from eof_received() has no effect when using ssl");
    } catch (...) {
        fatal_error(std::current_exception(), "Error calling eof_received()");
    }
}

void SSLProtocol::app_write(std::string_view data) {
    if (data.empty()) return;
    if (state_ == State::flushing || state_ == State::shutdown || state_ == State::unwrapped) {
        if (conn_lost_ >= 5) log(LogLevel::warning, "SSL connection is closed");
        ++conn_lost_;
        return;
    }
    if (state_ == State::handshake || !backlog_.empty()) {
        backlog_.append(data);
        if (write_buffer_size() > raw_->get_write_buffer_limits().second) set_app_writing_paused(true);
        return;
    }
    clear_errors();
    std::size_t n = 0;
    int r = SSL_write_ex(ssl_, data.data(), data.size(), &n);
    if (r != 1) {
        bool again = false;
        std::exception_ptr err = ssl_failure(r, &again, "write");
        if (!again) return fatal_error(err, "Fatal error on SSL protocol");
        backlog_.append(data.substr(n));  // cannot happen with our BIO; kept correct anyway
    }
    process_outgoing();
}

void SSLProtocol::app_writelines(std::span<const std::string_view> parts) {
    if (state_ != State::wrapped || !backlog_.empty()) {
        for (auto p : parts) app_write(p);
        return;
    }
    // Each part becomes its own records, all sent in one write below.
    for (auto p : parts) {
        if (p.empty()) continue;
        clear_errors();
        std::size_t n = 0;
        int r = SSL_write_ex(ssl_, p.data(), p.size(), &n);
        if (r != 1) {
            bool again = false;
            std::exception_ptr err = ssl_failure(r, &again, "write");
            if (!again) return fatal_error(err, "Fatal error on SSL protocol");
            backlog_.append(p.substr(n));
        }
    }
    process_outgoing();
}

void SSLProtocol::do_write() {
    if (backlog_.empty()) return process_outgoing();
    clear_errors();
    std::size_t n = 0;
    int r = SSL_write_ex(ssl_, backlog_.data(), backlog_.size(), &n);
    if (r == 1) {
        backlog_.clear();
    } else {
        bool again = false;
        std::exception_ptr err = ssl_failure(r, &again, "write");
        if (!again) return fatal_error(err, "Fatal error on SSL protocol");
        backlog_.erase(0, n);
    }
    process_outgoing();
    resume_app_writing_if_due();
}

void SSLProtocol::process_outgoing() {
    if (out_.empty() || !raw_ || state_ == State::unwrapped) return;
    // The raw transport copies what the kernel does not take at once.
    raw_->write(out_);
    out_.clear();
}

std::size_t SSLProtocol::write_buffer_size() const noexcept {
    return (raw_ ? raw_->get_write_buffer_size() : 0) + backlog_.size() + out_.size();
}

void SSLProtocol::pause_writing() {
    raw_writing_paused_ = true;
    set_app_writing_paused(true);
}

void SSLProtocol::resume_writing() {
    raw_writing_paused_ = false;
    resume_app_writing_if_due();
}

void SSLProtocol::resume_app_writing_if_due() {
    if (!app_writing_paused_ || raw_writing_paused_ || !raw_) return;
    if (write_buffer_size() > raw_->get_write_buffer_limits().first) return;
    set_app_writing_paused(false);
    if (app_transport_) app_transport_->sendfile_wake(nullptr);
}

void SSLProtocol::set_app_writing_paused(bool paused) {
    if (app_writing_paused_ == paused) return;
    app_writing_paused_ = paused;
    try {
        if (paused)
            app_->pause_writing();
        else
            app_->resume_writing();
    } catch (...) {
        loop_->call_exception_handler({paused ? "protocol.pause_writing() failed" : "protocol.resume_writing() failed",
                                       std::current_exception(),
                                       "SSL transport",
                                       {}});
    }
}

bool SSLProtocol::eof_received() {
    eof_received_ = true;
    switch (state_) {
        case State::handshake:
            on_handshake_complete(connection_reset("Connection lost during the TLS handshake (EOF from the peer)"));
            break;
        case State::wrapped:
            state_ = State::flushing;
            if (app_reading_paused_) return true;  // flushed when the application reads again
            do_flush();
            break;
        case State::flushing:
            do_write();
            state_ = State::shutdown;
            do_shutdown();
            break;
        case State::shutdown:
            do_shutdown();
            break;
        case State::unwrapped:
            break;
    }
    return false;
}

void SSLProtocol::start_shutdown() {
    if (state_ == State::flushing || state_ == State::shutdown || state_ == State::unwrapped) return;
    if (app_transport_) app_transport_->mark_closed();
    if (state_ == State::handshake) return abort(nullptr);
    state_ = State::flushing;
    try {
        shutdown_timer_ = loop_->call_later(params_.shutdown_timeout, [this] { check_shutdown_timeout(); });
    } catch (...) {
        // Out of memory: without its timer the shutdown could wait on the
        // peer forever, so the connection is cut instead.
        state_ = State::unwrapped;
        if (raw_) raw_->abort();
        return;
    }
    do_flush();
}

void SSLProtocol::check_shutdown_timeout() {
    if (state_ != State::flushing && state_ != State::shutdown) return;
    lost_exc_ = std::make_exception_ptr(TimeoutError("SSL shutdown timed out"));
    state_ = State::unwrapped;
    if (raw_) raw_->abort();
}

void SSLProtocol::do_flush() {
    do_read();
    if (state_ != State::flushing) return;
    state_ = State::shutdown;
    do_shutdown();
}

void SSLProtocol::do_shutdown() {
    if (state_ != State::shutdown) return;
    if (!eof_received_) {
        if (!backlog_.empty()) do_write();
        clear_errors();
        int r = SSL_shutdown(ssl_);
        if (r == 0) r = SSL_shutdown(ssl_);  // ours is sent: now read the peer's
        if (r != 1) {
            bool again = false;
            std::exception_ptr err = ssl_failure(r, &again, "shutdown");
            process_outgoing();
            if (again) return;  // wait for the peer's close_notify (or EOF, or the timeout)
            return on_shutdown_complete(err);
        }
    }
    process_outgoing();
    call_eof_received();
    on_shutdown_complete(nullptr);
}

void SSLProtocol::on_shutdown_complete(std::exception_ptr exc) {
    shutdown_timer_.cancel();
    if (exc) return fatal_error(exc, "Fatal error on SSL shutdown");
    if (raw_) raw_->close();
}

void SSLProtocol::fatal_error(std::exception_ptr exc, const char* message) {
    // An OSError (SSLError is one) is the peer's business: logged in debug
    // mode only, as asyncio; anything else goes to the exception handler.
    if (is_os_error(exc)) {
        if (loop_->get_debug()) log(LogLevel::debug, message);
    } else {
        loop_->call_exception_handler({message, exc, "SSL transport", {}});
    }
    abort(exc);
}

void SSLProtocol::abort(std::exception_ptr exc) {
    if (app_transport_) app_transport_->mark_closed();
    if (exc && !lost_exc_) lost_exc_ = exc;
    state_ = State::unwrapped;
    if (raw_) raw_->abort();
}

void SSLProtocol::connection_lost(std::exception_ptr exc) {
    Ref<SSLTransport> app_t = std::move(app_transport_);  // released on return
    app_transport_ = {};
    // Making an exception allocates: a bad_alloc there must not skip the
    // rest (the app protocol would never hear of the loss, its readers would
    // wait forever); the bad_alloc is what the waiters get then.
    auto or_made = [](std::exception_ptr e, auto make) noexcept {
        if (e) return e;
        try {
            return make();
        } catch (...) {
            return std::current_exception();
        }
    };
    if (app_t) {
        app_t->mark_closed();
        app_t->sendfile_wake(or_made(exc, [] { return make_os_error(EPIPE, "sendfile: the connection is closed"); }));
    }
    backlog_.clear();
    out_.clear();
    ++conn_lost_;
    handshake_timer_.cancel();
    shutdown_timer_.cancel();
    read_soon_.cancel();
    write_soon_.cancel();
    if (!exc) exc = lost_exc_;
    if (app_state_ == AppState::made || app_state_ == AppState::eof) {
        app_state_ = AppState::lost;
        try {
            app_->connection_lost(exc);
        } catch (...) {
            loop_->call_exception_handler(
                {"protocol.connection_lost() failed", std::current_exception(), "SSL transport", {}});
        }
    }
    state_ = State::unwrapped;
    wakeup_waiter(or_made(exc, [] { return connection_reset("Connection lost during the TLS handshake"); }));
    raw_ = nullptr;
}

void SSLProtocol::app_pause_reading() {
    if (app_reading_paused_) return;
    app_reading_paused_ = true;
    if (raw_) raw_->pause_reading();
}

void SSLProtocol::app_resume_reading() {
    if (!app_reading_paused_) return;
    app_reading_paused_ = false;
    if (raw_) raw_->resume_reading();
    // What OpenSSL or carry_ already hold is delivered on the next turn.
    read_soon_.cancel();
    read_soon_ = loop_->call_soon([this] {
        if (state_ == State::flushing) {
            do_flush();
        } else {
            do_read();
        }
        stash_input();
    });
}

bool SSLProtocol::app_reading() const noexcept { return !app_reading_paused_ && raw_ && raw_->is_reading(); }

void SSLProtocol::set_app_protocol(std::unique_ptr<BaseProtocol> p) {
    if (!p) throw std::invalid_argument("set_protocol: no protocol");
    auto* s = dynamic_cast<Protocol*>(p.get());
    auto* b = dynamic_cast<BufferedProtocol*>(p.get());
    if (!s && !b) throw std::invalid_argument("a TLS transport needs a Protocol or a BufferedProtocol");
    if (app_owned_) retired_.push_back(std::move(app_owned_));
    app_owned_ = std::move(p);
    app_ = app_owned_.get();
    app_stream_ = s;
    app_buffered_ = b;
}

std::any SSLProtocol::extra_info(std::string_view name) const {
    if (name == "sslcontext") return ctx_;
    if (name == "ssl_object") return SSLObject(ssl_);
    if (handshake_done_) {
        SSLObject o(ssl_);
        if (name == "peercert") {
            auto c = o.getpeercert();
            return c ? std::any(*c) : std::any();
        }
        if (name == "cipher") {
            auto c = o.cipher();
            return c ? std::any(*c) : std::any();
        }
        if (name == "compression") return std::optional<std::string>();
        if (name == "alpn_protocol") return o.selected_alpn_protocol();
        if (name == "tls_version") return o.version();
    }
    return raw_ ? raw_->get_extra_info(name) : std::any();
}

// ---- SSLTransport ------------------------------------------------------------------

std::any SSLTransport::get_extra_info(std::string_view name) const {
    // The SSLProtocol answers from the transport below once it is gone too.
    std::any v = proto_->extra_info(name);
    return v.has_value() ? v : raw_->get_extra_info(name);
}

void SSLTransport::close() {
    if (closed_) return;
    closed_ = true;
    proto_->start_shutdown();
}

void SSLTransport::abort() {
    closed_ = true;
    proto_->abort(nullptr);
}

void SSLTransport::set_protocol(std::unique_ptr<BaseProtocol> protocol) {
    proto_->set_app_protocol(std::move(protocol));
}

void SSLTransport::write(std::string_view data) {
    if (closed_ && raw_->get_loop().is_closed()) throw std::runtime_error("Event loop is closed");
    proto_->app_write(data);
}

void SSLTransport::writelines(std::span<const std::string_view> data) { proto_->app_writelines(data); }

void SSLTransport::write_eof() { throw std::runtime_error("SSL doesn't support half-closes"); }

void SSLTransport::sendfile_begin() {
    if (sendfile_) throw std::runtime_error("sendfile is already in progress on this transport");
    if (closed_) throw std::runtime_error("Transport is closing");
    sendfile_ = true;
    sendfile_resume_reading_ = is_reading();
    pause_reading();
}

Future<void> SSLTransport::sendfile_wait_writable() {
    Future<void> w = Future<void>::create(raw_->get_loop());
    if (closed_ || !proto_->raw()) {
        w.set_exception(make_os_error(EPIPE, "sendfile: the connection is closed"));
    } else if (get_write_buffer_size() <= get_write_buffer_limits().first) {
        w.set_result();
    } else {
        sendfile_waiter_ = w;  // woken by the SSLProtocol's resume or connection_lost
    }
    return w;
}

void SSLTransport::sendfile_wake(std::exception_ptr exc) noexcept {
    if (!sendfile_waiter_) return;
    Future<void> w = std::move(sendfile_waiter_);
    sendfile_waiter_ = {};
    if (w.done()) return;
    if (exc)
        w.set_exception(exc);
    else
        w.set_result();
}

void SSLTransport::sendfile_end() noexcept {
    if (!sendfile_) return;
    sendfile_ = false;
    sendfile_waiter_ = {};
    if (sendfile_resume_reading_ && !closed_) {
        try {
            resume_reading();
        } catch (...) {}
    }
}

}  // namespace tulip::ssl::detail
