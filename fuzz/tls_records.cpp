// Fuzz target: tulip's TLS server transport (src/tls/ssl_protocol: OpenSSL
// over memory BIOs of ours) fed by a client the input scripts. The client is
// OpenSSL too, on memory BIOs, writing to the other end of a socketpair; the
// input picks TLS 1.2 or 1.3 and a series of steps: send application data,
// cut the pending ciphertext at a random point (records split across reads),
// write raw garbage between records, ask for a key update (1.3) or a
// renegotiation (1.2), send close_notify, half-close.
//
// Properties: no crash, no sanitizer report, no hang; the server ends every
// connection (handshake failure, a bad record, EOF, close_notify) with
// connection_lost; what it read is a prefix of what the client sent, and all
// of it when nothing corrupted the stream and the client closed cleanly.
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>

#include <tulip/loop/event_loop.hpp>
#include <tulip/net/connection.hpp>
#include <tulip/net/protocol.hpp>
#include <tulip/net/socket.hpp>
#include <tulip/task/sleep.hpp>
#include <tulip/task/task.hpp>
#include <tulip/task/wait_for.hpp>
#include <tulip/tls/ssl_context.hpp>
#include <tulip/tls/start_tls.hpp>

#include "input.hpp"
#include "support/tls_certs.hpp"

namespace {

using namespace tulip;

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "tls_records: %s\n", what.c_str());
    std::abort();
}

using fuzz::Input;

ssl::SSLContext& server_context() {
    static ssl::SSLContext ctx = [] {
        ssl::SSLContext c(ssl::PROTOCOL_TLS_SERVER);
        c.load_cert_chain(test::test_pki().server.cert, test::test_pki().server.key);
        return c;
    }();
    return ctx;
}

SSL_CTX* client_context(bool tls13) {
    static SSL_CTX* ctx12 = nullptr;
    static SSL_CTX* ctx13 = nullptr;
    SSL_CTX*& c = tls13 ? ctx13 : ctx12;
    if (c == nullptr) {
        c = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
        SSL_CTX_set_min_proto_version(c, tls13 ? TLS1_3_VERSION : TLS1_2_VERSION);
        SSL_CTX_set_max_proto_version(c, tls13 ? TLS1_3_VERSION : TLS1_2_VERSION);
    }
    return c;
}

// The scripted client: an SSL object on two memory BIOs, and our end of the
// socketpair.
struct Client {
    SSL* ssl;
    BIO* in;   // what came from the server, for OpenSSL to read
    BIO* out;  // what OpenSSL wrote, for us to send
    int fd;
    std::string unsent;  // ciphertext taken from `out`, not yet written to fd
    bool handshake_done = false;
    bool broken = false;  // the client's SSL failed: it sends nothing more

    Client(bool tls13, int sock) : ssl(SSL_new(client_context(tls13))), fd(sock) {
        in = BIO_new(BIO_s_mem());
        out = BIO_new(BIO_s_mem());
        SSL_set_bio(ssl, in, out);
        SSL_set_connect_state(ssl);
    }
    ~Client() { SSL_free(ssl); }
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    void collect() {
        char buf[16384];
        int n;
        while ((n = BIO_read(out, buf, sizeof buf)) > 0) unsent.append(buf, static_cast<std::size_t>(n));
    }
    // Writes up to `limit` bytes of what is pending.
    void send(std::size_t limit = SIZE_MAX) {
        collect();
        std::size_t todo = std::min(limit, unsent.size());
        std::size_t done = 0;
        while (done < todo) {
            ssize_t n = ::send(fd, unsent.data() + done, todo - done, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n <= 0) break;  // full or closed: the rest stays pending
            done += static_cast<std::size_t>(n);
        }
        unsent.erase(0, done);
    }
    void receive() {
        char buf[16384];
        ssize_t n;
        while ((n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) BIO_write(in, buf, static_cast<int>(n));
    }
    // Lets OpenSSL act on what arrived: the handshake, tickets, key updates.
    void advance() {
        if (broken) return;
        receive();
        if (!handshake_done) {
            int r = SSL_do_handshake(ssl);
            if (r == 1) {
                handshake_done = true;
            } else {
                int e = SSL_get_error(ssl, r);
                if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) broken = true;
            }
        } else {
            char buf[4096];
            int r;
            while ((r = SSL_read(ssl, buf, sizeof buf)) > 0) {}
            int e = SSL_get_error(ssl, r);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_ZERO_RETURN) broken = true;
        }
        ERR_clear_error();
    }
};

// What the server's application protocol saw. Shared with the protocol,
// which the transports own and may outlive the driver's frame.
struct Server {
    std::string received;
    bool handshake_done = false;
    bool lost = false;
    int lost_calls = 0;
    bool done = false;
};

class Recorder final : public Protocol {
public:
    explicit Recorder(std::shared_ptr<Server> s) : s_(std::move(s)) {}
    void data_received(std::string_view data) override { s_->received += data; }
    void connection_lost(std::exception_ptr) override {
        ++s_->lost_calls;
        s_->lost = true;
    }

private:
    std::shared_ptr<Server> s_;
};

// The server's side: a plain transport over our end of the socketpair, then
// start_tls as the server (asyncio: loop.start_tls(..., server_side=True)).
Coro<void> serve(Socket sock, std::shared_ptr<Server> s) {
    // GCC 12.2 destroys a lambda temporary in a co_await expression twice:
    // named first (as src/net/dns.cpp does).
    auto factory = [s] { return std::make_unique<Recorder>(s); };
    auto [raw, proto] = co_await create_connection(factory, std::move(sock));
    Ref<Transport> secure;
    try {
        secure = co_await start_tls(raw, server_context(),
                                    {.server_side = true,
                                     .server_hostname = std::nullopt,
                                     .ssl_handshake_timeout = 5.0,
                                     .ssl_shutdown_timeout = 0.05});
        s->handshake_done = true;
    } catch (const std::exception& e) {
        // A failed handshake: start_tls closed the connection.
        if (std::getenv("TULIP_FUZZ_TRACE") != nullptr) std::fprintf(stderr, "server: %s\n", e.what());
        raw->abort();
        s->done = true;
        co_return;
    }
    // Records until the connection is lost: a bad record, EOF, close_notify.
    while (!s->lost) co_await sleep(0.001);
    s->done = true;
}

Coro<void> drive(Input in) {
    const std::uint8_t mode = in.next();
    const bool tls13 = mode & 1;
    auto [ours, theirs] = Socket::pair();
    Client client(tls13, theirs.fileno());
    auto shared = std::make_shared<Server>();
    Server& server = *shared;
    Task<void> task = get_running_loop().create_task(serve(std::move(ours), shared));

    std::string sent;        // application bytes SSL_write accepted
    bool corrupted = false;  // garbage went on the wire
    bool closed_clean = false;
    auto settle = [&]() -> Coro<void> {
        for (int i = 0; i < 6; ++i) {
            client.advance();
            client.send();
            co_await sleep(0);
        }
    };
    co_await settle();
    while (!in.empty() && !task.done()) {
        std::uint8_t op = in.next();
        std::size_t n = 1 + in.next() % 200;
        switch (op % 6) {
            case 0:  // application data
                if (client.handshake_done && !client.broken && !closed_clean) {
                    std::string data;
                    for (std::size_t i = 0; i < n; ++i) data += static_cast<char>('a' + (i + op) % 26);
                    int r = SSL_write(client.ssl, data.data(), static_cast<int>(data.size()));
                    if (r > 0) sent.append(data, 0, static_cast<std::size_t>(r));
                    ERR_clear_error();
                }
                break;
            case 1: {  // raw garbage between (or inside) records
                client.send();
                std::string junk;
                for (std::size_t i = 0; i < n && !in.empty(); ++i) junk += static_cast<char>(in.next());
                if (!junk.empty() && ::send(client.fd, junk.data(), junk.size(), MSG_NOSIGNAL | MSG_DONTWAIT) > 0)
                    corrupted = true;
                break;
            }
            case 2:  // part of the pending ciphertext only: records split across reads
                client.collect();
                client.send(n % (client.unsent.size() + 1));
                co_await sleep(0);
                break;
            case 3:  // key update (1.3) or renegotiation (1.2)
                if (client.handshake_done && !client.broken && !closed_clean) {
                    if (tls13)
                        SSL_key_update(client.ssl, SSL_KEY_UPDATE_REQUESTED);
                    else
                        SSL_renegotiate(client.ssl);
                    (void)SSL_do_handshake(client.ssl);
                    ERR_clear_error();
                }
                break;
            case 4:  // close_notify
                if (client.handshake_done && !client.broken && !closed_clean) {
                    (void)SSL_shutdown(client.ssl);
                    ERR_clear_error();
                    closed_clean = true;
                }
                break;
            case 5:  // half-close: nothing more from the client
                client.send();
                ::shutdown(client.fd, SHUT_WR);
                while (!in.empty()) in.next();
                break;
        }
        if (op % 6 != 2) co_await settle();
    }
    client.send();
    co_await settle();
    const bool all_delivered = client.unsent.empty() && !corrupted && closed_clean && !client.broken;
    if (std::getenv("TULIP_FUZZ_TRACE") != nullptr)
        std::fprintf(
            stderr,
            "tls%s server handshake=%d client handshake=%d broken=%d sent=%zu received=%zu corrupted=%d closed=%d\n",
            tls13 ? "1.3" : "1.2", server.handshake_done, client.handshake_done, client.broken, sent.size(),
            server.received.size(), corrupted, closed_clean);
    // Our end goes away: whatever state the server is in, it must end.
    theirs.close();
    try {
        co_await wait_for(task, 10.0);
    } catch (const std::exception&) {
        fail("the server did not end its connection within 10 s of the peer leaving");
    }
    if (!server.done) fail("the server task ended without finishing");
    if (server.handshake_done && server.lost_calls != 1)
        fail("connection_lost called " + std::to_string(server.lost_calls) + " times");
    if (std::getenv("TULIP_FUZZ_TRACE") != nullptr)
        std::fprintf(stderr, "sent     %s\nreceived %s\n", sent.c_str(), server.received.c_str());
    if (sent.compare(0, server.received.size(), server.received) != 0)
        fail("the server read bytes the client never sent (" + std::to_string(server.received.size()) + " read, " +
             std::to_string(sent.size()) + " sent)");
    if (all_delivered && server.received != sent)
        fail("a clean stream lost data: " + std::to_string(server.received.size()) + " of " +
             std::to_string(sent.size()) + " bytes read");
    for (int i = 0; i < 4; ++i) co_await sleep(0);  // the transports' last callbacks
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static EventLoop loop;
    loop.run_until_complete(drive(Input{data, size}));
    return 0;
}
