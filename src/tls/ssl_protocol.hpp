// src/tls/ssl_protocol.hpp — internal: the TLS layer over any stream
// transport (asyncio sslproto.py: SSLProtocol and _SSLProtocolTransport).
//
// SSLProtocol is the protocol of the transport below (the "raw" one): it
// feeds the ciphertext it receives to OpenSSL through a memory BIO of ours
// (no socket BIO, so any tulip transport can carry it), and writes what
// OpenSSL produces to the raw transport. SSLTransport is the transport the
// application's protocol sees.
//
// Ownership: the raw transport owns the SSLProtocol, which owns the app's
// protocol. The SSLTransport holds a reference on the raw transport; the
// SSLProtocol holds one on the SSLTransport until connection_lost (the
// loop keeps the raw one alive until then), which breaks the cycle.
//
// States (asyncio's SSLProtocolState): handshake -> wrapped -> flushing
// (close() or EOF: the data still in the pipe is read) -> shutdown
// (close_notify sent; waiting up to shutdown_timeout for the peer's) ->
// unwrapped (the raw transport is closed or lost).
#pragma once

#include <openssl/ssl.h>

#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <tulip/loop/event_loop.hpp>
#include <tulip/loop/handle.hpp>
#include <tulip/net/secure_layer.hpp>
#include <tulip/net/sendfile.hpp>
#include <tulip/net/transport.hpp>
#include <tulip/task/future.hpp>
#include <tulip/tls/ssl_context.hpp>

namespace tulip::ssl::detail {

class SSLTransport;

// An SSL owned until an SSLProtocol adopts it.
struct SslFree {
    void operator()(SSL* s) const noexcept { SSL_free(s); }
};
using SslPtr = std::unique_ptr<SSL, SslFree>;

class SSLProtocol final : public Protocol {
public:
    // `app` is owned when app_owned is set (create_connection, servers); with
    // start_tls the raw transport keeps owning it and app_owned is null.
    // ssl is adopted once the constructor has succeeded; if it (or the
    // allocation before it) throws, the caller's SslPtr still frees it.
    SSLProtocol(EventLoop& loop, SSLContext ctx, SslPtr&& ssl, std::unique_ptr<BaseProtocol> app_owned,
                BaseProtocol* app, const SecureLayerParams& params, Future<Ref<Transport>> waiter,
                bool call_connection_made);
    ~SSLProtocol() override;

    // ---- the raw transport's protocol ----
    void connection_made(Transport& transport) override;
    void data_received(std::string_view data) override;
    bool eof_received() override;
    void connection_lost(std::exception_ptr exc) override;
    void pause_writing() override;
    void resume_writing() override;

    // ---- for SSLTransport ----
    void app_write(std::string_view data);
    void app_writelines(std::span<const std::string_view> parts);
    void start_shutdown();
    void abort(std::exception_ptr exc);
    void app_pause_reading();
    void app_resume_reading();
    bool app_reading() const noexcept;
    std::size_t write_buffer_size() const noexcept;
    std::any extra_info(std::string_view name) const;
    BaseProtocol& app_protocol() const noexcept { return *app_; }
    void set_app_protocol(std::unique_ptr<BaseProtocol> p);
    Transport* raw() const noexcept { return raw_; }
    EventLoop& loop() const noexcept { return *loop_; }

    // The BIO's ends.
    int bio_read(char* out, int len) noexcept;
    void bio_write(const char* data, int len);

private:
    enum class State { unwrapped, handshake, wrapped, flushing, shutdown };
    enum class AppState { init, made, eof, lost };

    void start_handshake();
    void do_handshake();
    void on_handshake_complete(std::exception_ptr exc);
    void check_handshake_timeout();
    void do_read();
    void do_read_copied();
    void do_read_buffered();
    void do_write();
    void do_flush();
    void do_shutdown();
    void on_shutdown_complete(std::exception_ptr exc);
    void check_shutdown_timeout();
    void call_eof_received();
    void process_outgoing();
    void fatal_error(std::exception_ptr exc, const char* message);
    void wakeup_waiter(std::exception_ptr exc);
    void resume_app_writing_if_due();
    // Tells the application's protocol pause_writing/resume_writing once per change.
    void set_app_writing_paused(bool paused);
    // What SSL_get_error says after a failed call: true to wait for more
    // bytes; otherwise the error to raise.
    std::exception_ptr ssl_failure(int ret, bool* again, const char* op);
    // Keeps what OpenSSL has not read yet for the next call.
    void stash_input();

    EventLoop* loop_;
    SSLContext ctx_;
    SSL* ssl_;
    BIO* bio_;  // ours; SSL owns it
    std::unique_ptr<BaseProtocol> app_owned_;
    BaseProtocol* app_;
    Protocol* app_stream_ = nullptr;
    BufferedProtocol* app_buffered_ = nullptr;
    std::vector<std::unique_ptr<BaseProtocol>> retired_;  // replaced app protocols: ProtocolRefs stay valid
    SecureLayerParams params_;
    Future<Ref<Transport>> waiter_;
    bool call_connection_made_;

    Transport* raw_ = nullptr;
    Ref<SSLTransport> app_transport_;  // until connection_lost

    State state_ = State::unwrapped;
    AppState app_state_ = AppState::init;
    bool eof_received_ = false;
    bool handshake_done_ = false;
    bool app_reading_paused_ = false;
    bool app_writing_paused_ = false;
    bool raw_writing_paused_ = false;
    int conn_lost_ = 0;
    std::exception_ptr lost_exc_;  // the error our abort()s pass on to connection_lost

    // Ciphertext: what OpenSSL may read (a view of the raw transport's
    // buffer during data_received, else of carry_), and what it wrote.
    std::string_view in_;
    std::string carry_;
    std::string out_;
    // Plaintext written before the handshake completed.
    std::string backlog_;

    TimerHandle handshake_timer_;
    TimerHandle shutdown_timer_;
    Handle read_soon_;
    Handle write_soon_;
};

// sendfile() through TLS takes the read/write fallback (asyncio's
// _SendfileMode.FALLBACK for its SSL transport): no socket of its own.
class SSLTransport final : public Transport, public tulip::detail::SendfileTransport {
public:
    SSLTransport(Ref<Transport> raw, SSLProtocol* proto) : raw_(std::move(raw)), proto_(proto) {}

    std::any get_extra_info(std::string_view name) const override;
    bool is_closing() const noexcept override { return closed_; }
    void close() override;
    BaseProtocol& get_protocol() const noexcept override { return proto_->app_protocol(); }
    EventLoop& get_loop() const noexcept override { return raw_->get_loop(); }
    void set_protocol(std::unique_ptr<BaseProtocol> protocol) override;

    void write(std::string_view data) override;
    void writelines(std::span<const std::string_view> data) override;
    void write_eof() override;
    bool can_write_eof() const noexcept override { return false; }
    void abort() override;
    void pause_reading() override { proto_->app_pause_reading(); }
    void resume_reading() override { proto_->app_resume_reading(); }
    bool is_reading() const noexcept override { return !closed_ && proto_->app_reading(); }
    void set_write_buffer_limits(std::optional<std::size_t> high = std::nullopt,
                                 std::optional<std::size_t> low = std::nullopt) override {
        raw_->set_write_buffer_limits(high, low);
    }
    std::size_t get_write_buffer_size() const noexcept override { return proto_->write_buffer_size(); }
    std::pair<std::size_t, std::size_t> get_write_buffer_limits() const noexcept override {
        return raw_->get_write_buffer_limits();
    }

    void mark_closed() noexcept { closed_ = true; }

    // ---- sendfile (the fallback) ----
    int sendfile_socket() const noexcept override { return -1; }
    void sendfile_begin() override;
    Future<void> sendfile_wait_writable() override;
    void sendfile_write(std::string_view data) override { proto_->app_write(data); }
    void sendfile_end() noexcept override;
    // The SSLProtocol's news for a waiting sendfile: below the low-water
    // mark again (exc null), or the connection is gone.
    void sendfile_wake(std::exception_ptr exc) noexcept;

private:
    bool sendfile_ = false;
    bool sendfile_resume_reading_ = false;
    Future<void> sendfile_waiter_;
    Ref<Transport> raw_;  // owns *proto_
    SSLProtocol* proto_;
    bool closed_ = false;
};

}  // namespace tulip::ssl::detail
