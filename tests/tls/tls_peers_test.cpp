// tulip's TLS against peers nobody here wrote (issue 11): Debian's
// `openssl s_server` / `openssl s_client` and Python's ssl module
// (tests/tls/peers/tls_peer.py), both ways: handshakes, echo, extra info,
// certificate failures, mutual TLS, ALPN, STARTTLS, 64 MiB each way, an
// abrupt close, and garbage sent to a TLS server.
//
// Every peer is a child started with tulip's subprocess API on 127.0.0.1
// (port 0, the peer says which), killed and reaped at the end whatever
// happened (guarded()), and every wait is bounded.
#include <openssl/evp.h>
#include <openssl/x509_vfy.h>
#include <signal.h>

#include <algorithm>
#include <any>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <tulip/process/subprocess.hpp>
#include <tulip/streams/open_connection.hpp>
#include <tulip/tls/ssl_context.hpp>
#include <tulip/tls/ssl_error.hpp>
#include <tulip/tls/start_tls.hpp>
#include <tulip/tulip.hpp>

#include "support/coro_helpers.hpp"
#include "support/loop_test.hpp"
#include "support/net.hpp"
#include "support/tls_certs.hpp"

namespace tls_tls_peers_test {

#ifndef TULIP_TLS_PEERS_DIR
#error "TULIP_TLS_PEERS_DIR must name tests/tls/peers (tests/CMakeLists.txt)"
#endif

using namespace tulip;
using test::close_and_wait;
using test::eventually;
using test::port_of;
using test::test_pki;

namespace {

const char* const kPython = "/usr/bin/python3";
const char* const kOpenssl = "/usr/bin/openssl";
constexpr double kStep = 5.0;  // bound of one step of a peer (start, exit)

std::string peer_script() { return std::string(TULIP_TLS_PEERS_DIR) + "/tls_peer.py"; }

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

template <class A>
auto bounded(A a) {
    return wait_for(std::move(a), kStep);
}

// ---- peers -----------------------------------------------------------------------------

// A child process the test talks to; its output is kept once it is done.
struct Peer {
    std::optional<Process> proc;
    std::uint16_t port = 0;
    std::string out;  // stdout after the lines already read
    std::string err;
    Peer() = default;
    Peer(const Peer&) = delete;
    Peer& operator=(const Peer&) = delete;
    // Last resort (the loop died under the test): at least the child does
    // not outlive us.
    ~Peer() {
        if (proc && !proc->returncode()) ::kill(proc->pid(), SIGKILL);
    }
    std::string describe() const { return "peer stdout: " + out + "\npeer stderr: " + err; }
};

void kill_quietly(Process& p) {
    if (p.returncode()) return;
    try {
        p.kill();
    } catch (const std::exception&) {
        // It exited in the meantime.
    }
}

Coro<void> spawn(Peer* peer, std::string program, std::vector<std::string> args) {
    SubprocessOptions o;
    o.std_in = PIPE;
    o.std_out = PIPE;
    o.std_err = PIPE;
    Process p = co_await create_subprocess_exec(std::move(program), std::move(args), o);
    peer->proc = p;
}

// Reads the peer's stdout up to a line that starts with prefix; returns it.
Coro<std::string> line_starting(Peer* peer, std::string prefix) {
    for (int i = 0; i < 100; ++i) {
        std::string line = co_await bounded(peer->proc->std_out->readline());
        if (line.empty()) throw std::runtime_error("the peer ended before saying " + prefix);
        if (line.rfind(prefix, 0) == 0) co_return line;
    }
    throw std::runtime_error("the peer never said " + prefix);
}

// The port in "PORT 1234" (Python) or "ACCEPT 127.0.0.1:1234" (s_server).
std::uint16_t port_in(const std::string& line) {
    auto at = line.find_last_of(" :");
    return static_cast<std::uint16_t>(std::stoi(line.substr(at + 1)));
}

// A Python peer: tls_peer.py with args; a server's port is read.
Coro<void> start_python(Peer* peer, std::vector<std::string> args) {
    const bool server = args.at(0) == "server";
    args.insert(args.begin(), peer_script());
    co_await spawn(peer, kPython, std::move(args));
    if (server) {
        std::string line = co_await line_starting(peer, "PORT ");
        peer->port = port_in(line);
    }
}

// `openssl s_server` reversing each line (-rev) for one connection.
Coro<void> start_s_server(Peer* peer, std::vector<std::string> extra) {
    std::vector<std::string> args{"s_server", "-accept", "127.0.0.1:0",          "-naccept", "1",
                                  "-rev",     "-cert",   test_pki().server.cert, "-key",     test_pki().server.key};
    args.insert(args.end(), extra.begin(), extra.end());
    // Through tls_peer.py exec: s_server then dies with us, even if we crash.
    std::vector<std::string> launcher{peer_script(), "exec", kOpenssl};
    args.insert(args.begin(), launcher.begin(), launcher.end());
    co_await spawn(peer, kPython, std::move(args));
    std::string line = co_await line_starting(peer, "ACCEPT ");
    peer->port = port_in(line);
}

// Waits (bounded) for the peer to exit and keeps its output; kills it first
// when kill_now, or when it does not exit in time.
Coro<void> finish(Peer* peer, bool kill_now) {
    if (!peer->proc) co_return;
    Process p = *peer->proc;
    if (kill_now) kill_quietly(p);
    bool timed_out = false;
    try {
        auto res = co_await bounded(p.communicate());
        peer->out += res.first.value_or("");
        peer->err += res.second.value_or("");
    } catch (const TimeoutError&) {
        timed_out = true;
    }
    if (timed_out) {
        kill_quietly(p);
        co_await bounded(p.wait());
    }
}

// Runs scenario, then finishes the peer whatever happened (killing it if the
// scenario failed), then reports the scenario's failure.
Coro<void> guarded(Peer* peer, Coro<void> scenario) {
    std::exception_ptr error;
    try {
        co_await std::move(scenario);
    } catch (...) {
        error = std::current_exception();
    }
    co_await finish(peer, error != nullptr);
    if (error) {
        ADD_FAILURE() << peer->describe();
        std::rethrow_exception(error);
    }
}

// ---- contexts and extra info ----------------------------------------------------------

ssl::SSLContext client_ctx() {
    ssl::SSLContext c;
    c.load_verify_locations(test_pki().ca.cert);
    return c;
}

ssl::SSLContext server_ctx(const test::CertFiles& f) {
    ssl::SSLContext s(ssl::PROTOCOL_TLS_SERVER);
    s.load_cert_chain(f.cert, f.key);
    return s;
}

template <class T>
T extra(const std::any& a, const char* key) {
    const T* p = std::any_cast<T>(&a);
    if (!p) throw std::runtime_error(std::string("get_extra_info(\"") + key + "\"): missing or of another type");
    return *p;
}
template <class T>
T extra_of(const StreamWriter& w, const char* key) {
    return extra<T>(w.get_extra_info(key), key);
}

bool has_name(const ssl::PeerCert::Names& names, const std::string& key, const std::string& value) {
    for (auto& [k, v] : names)
        if (k == key && v == value) return true;
    return false;
}

// What a tulip server's handler saw of its connections.
struct Seen {
    int connections = 0;
    std::string tls_version, alpn, sni, line;
    std::optional<ssl::PeerCert> peercert;
};

// Notes what the connection is, echoes one line, closes.
Coro<void> note_and_echo(Seen* s, StreamReader r, StreamWriter w) {
    ++s->connections;
    s->tls_version = extra_of<std::string>(w, "tls_version");
    s->alpn = extra_of<std::string>(w, "alpn_protocol");
    s->sni = extra_of<ssl::SSLObject>(w, "ssl_object").server_hostname();
    std::any pc = w.get_extra_info("peercert");
    if (pc.has_value()) s->peercert = extra<ssl::PeerCert>(pc, "peercert");
    s->line = co_await r.readline();
    w.write(s->line);
    co_await w.drain();
    try {
        co_await close_and_wait(w);
    } catch (const std::system_error&) {
        // The peer may leave without waiting for our close_notify.
    }
}

Coro<Server> tls_echo_server(Seen* seen, ssl::SSLContext ctx, double handshake_timeout = kStep) {
    StreamOptions o;
    o.server.ssl = ctx;
    o.server.ssl_handshake_timeout = handshake_timeout;
    auto handler = [seen](StreamReader r, StreamWriter w) { return note_and_echo(seen, r, w); };
    co_return co_await start_server(handler, "127.0.0.1", 0, o);
}

// A TLS client connection to 127.0.0.1:port; server_hostname "" keeps the
// default (the IP address connected to).
Coro<StreamPair> tls_connect(std::uint16_t port, ssl::SSLContext ctx, std::string server_hostname) {
    StreamOptions o;
    o.connect.ssl = ctx;
    if (!server_hostname.empty()) o.connect.server_hostname = server_hostname;
    o.connect.ssl_handshake_timeout = kStep;
    co_return co_await bounded(open_connection("127.0.0.1", port, o));
}

// Sends line and returns the reply line.
Coro<std::string> ask(StreamPair conn, std::string line) {
    auto [r, w] = std::move(conn);
    w.write(line);
    co_await w.drain();
    std::string reply = co_await bounded(r.readline());
    co_await bounded(close_and_wait(w));
    co_return reply;
}

// The SHA-256 of a stream, in hex.
class Sha256 {
public:
    Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr); }
    void update(std::string_view d) { EVP_DigestUpdate(ctx_.get(), d.data(), d.size()); }
    std::string hex() {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        EVP_DigestFinal_ex(ctx_.get(), md, &n);
        static const char* digits = "0123456789abcdef";
        std::string s;
        for (unsigned i = 0; i < n; ++i) {
            s += digits[md[i] >> 4];
            s += digits[md[i] & 15];
        }
        return s;
    }

private:
    struct Free {
        void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
    };
    std::unique_ptr<EVP_MD_CTX, Free> ctx_;
};

}  // namespace

class TlsPeers : public test::IoLoopTest {};

// ---- tulip client against foreign servers ---------------------------------------------

Coro<void> client_to_s_server(Peer* peer) {
    ssl::SSLContext ctx = client_ctx();
    std::vector<std::string> alpn{"h2", "http/1.1"};
    ctx.set_alpn_protocols(alpn);
    StreamPair conn = co_await tls_connect(peer->port, ctx, "localhost");
    auto [r, w] = std::move(conn);
    EXPECT_EQ(extra_of<std::string>(w, "tls_version"), "TLSv1.3");
    EXPECT_EQ(extra_of<std::string>(w, "alpn_protocol"), "http/1.1");
    auto cipher = extra_of<ssl::Cipher>(w, "cipher");
    EXPECT_FALSE(cipher.name.empty());
    EXPECT_EQ(cipher.protocol, "TLSv1.3");
    EXPECT_GE(cipher.secret_bits, 128);
    auto cert = extra_of<ssl::PeerCert>(w, "peercert");
    EXPECT_TRUE(has_name(cert.subject, "commonName", "localhost"));
    EXPECT_TRUE(has_name(cert.issuer, "commonName", "tulip test CA"));
    EXPECT_TRUE(has_name(cert.subject_alt_name, "DNS", "localhost"));
    EXPECT_TRUE(has_name(cert.subject_alt_name, "IP Address", "127.0.0.1"));
    EXPECT_EQ(cert.version, 3);
    w.write("hello tulip\n");
    std::string reply = co_await bounded(r.readline());
    EXPECT_EQ(reply, "pilut olleh\n");  // s_server -rev
    co_await bounded(close_and_wait(w));
}

TEST_F(TlsPeers, TulipClientTalksToOpensslServer) {
    Peer peer;
    auto body = [](Peer* p) -> Coro<void> {
        std::vector<std::string> extra{"-alpn", "http/1.1"};
        co_await start_s_server(p, extra);
        co_await guarded(p, client_to_s_server(p));
    };
    run_io(body(&peer));
    EXPECT_EQ(peer.proc->returncode(), 0) << peer.describe();
    EXPECT_TRUE(contains(peer.out, "ALPN protocols selected: http/1.1")) << peer.describe();
}

Coro<void> client_to_python_server(Peer* peer) {
    ssl::SSLContext ctx = client_ctx();
    std::vector<std::string> alpn{"h2", "http/1.1"};
    ctx.set_alpn_protocols(alpn);
    // No server_hostname: the IP address connected to is checked (IP SAN).
    StreamPair conn = co_await tls_connect(peer->port, ctx, "");
    auto [r, w] = std::move(conn);
    EXPECT_EQ(extra_of<std::string>(w, "tls_version"), "TLSv1.3");
    EXPECT_EQ(extra_of<std::string>(w, "alpn_protocol"), "http/1.1");
    EXPECT_EQ(extra_of<ssl::Cipher>(w, "cipher").protocol, "TLSv1.3");
    auto cert = extra_of<ssl::PeerCert>(w, "peercert");
    EXPECT_TRUE(has_name(cert.subject, "commonName", "localhost"));
    EXPECT_TRUE(has_name(cert.subject_alt_name, "IP Address", "127.0.0.1"));
    auto obj = extra_of<ssl::SSLObject>(w, "ssl_object");
    EXPECT_FALSE(obj.server_side());
    EXPECT_EQ(obj.version(), "TLSv1.3");
    w.write("one\ntwo\n");
    std::string first = co_await bounded(r.readline());
    std::string second = co_await bounded(r.readline());
    EXPECT_EQ(first, "one\n");
    EXPECT_EQ(second, "two\n");
    co_await bounded(close_and_wait(w));
}

TEST_F(TlsPeers, TulipClientTalksToPythonServer) {
    Peer peer;
    auto body = [](Peer* p) -> Coro<void> {
        std::vector<std::string> args{"server", "--cert",  test_pki().server.cert, "--key", test_pki().server.key,
                                      "--alpn", "http/1.1"};
        co_await start_python(p, args);
        co_await guarded(p, client_to_python_server(p));
    };
    run_io(body(&peer));
    EXPECT_EQ(peer.proc->returncode(), 0) << peer.describe();
    EXPECT_TRUE(contains(peer.out, "\"lines\": 2")) << peer.describe();
    EXPECT_TRUE(contains(peer.out, "\"alpn\": \"http/1.1\"")) << peer.describe();
}

Coro<void> client_without_common_alpn(Peer* peer) {
    ssl::SSLContext ctx = client_ctx();
    std::vector<std::string> alpn{"h2"};
    ctx.set_alpn_protocols(alpn);
    StreamPair conn = co_await tls_connect(peer->port, ctx, "localhost");
    std::string reply = co_await ask(std::move(conn), "x\n");
    EXPECT_EQ(reply, "x\n");
}

TEST_F(TlsPeers, NoAlpnProtocolInCommonIsNoAlpnNotAnError) {
    Peer peer;
    auto body = [](Peer* p) -> Coro<void> {
        std::vector<std::string> args{"server", "--cert",  test_pki().server.cert, "--key", test_pki().server.key,
                                      "--alpn", "http/1.1"};
        co_await start_python(p, args);
        co_await guarded(p, client_without_common_alpn(p));
    };
    run_io(body(&peer));
    EXPECT_EQ(peer.proc->returncode(), 0) << peer.describe();
    EXPECT_TRUE(contains(peer.out, "\"alpn\": null")) << peer.describe();
}

Coro<void> client_limited_to_tls12(Peer* peer) {
    ssl::SSLContext ctx = client_ctx();
    ctx.set_maximum_version(ssl::TLSVersion::TLSv1_2);
    StreamPair conn = co_await tls_connect(peer->port, ctx, "localhost");
    auto [r, w] = std::move(conn);
    EXPECT_EQ(extra_of<std::string>(w, "tls_version"), "TLSv1.2");
    auto cipher = extra_of<ssl::Cipher>(w, "cipher");
    EXPECT_EQ(cipher.protocol, "TLSv1.2");
    EXPECT_TRUE(contains(cipher.name, "ECDHE")) << cipher.name;  // forward secrecy with our EC key
    w.write("twelve\n");
    std::string reply = co_await bounded(r.readline());
    EXPECT_EQ(reply, "twelve\n");
    co_await bounded(close_and_wait(w));
}

TEST_F(TlsPeers, TulipClientSpeaksTls12WhenLimitedToIt) {
    Peer peer;
    auto body = [](Peer* p) -> Coro<void> {
        std::vector<std::string> args{"server", "--cert", test_pki().server.cert, "--key", test_pki().server.key};
        co_await start_python(p, args);
        co_await guarded(p, client_limited_to_tls12(p));
    };
    run_io(body(&peer));
    EXPECT_EQ(peer.proc->returncode(), 0) << peer.describe();
    EXPECT_TRUE(contains(peer.out, "\"version\": \"TLSv1.2\"")) << peer.describe();
}

// The context keeps the last session per server name and offers it again
// (TLS 1.3 tickets come after the handshake: the echo reads them).
Coro<void> client_resumes(Peer* peer) {
    ssl::SSLContext ctx = client_ctx();
    std::vector<bool> reused;
    for (int i = 0; i < 2; ++i) {
        StreamPair conn = co_await tls_connect(peer->port, ctx, "localhost");
        auto [r, w] = std::move(conn);
        reused.push_back(extra_of<ssl::SSLObject>(w, "ssl_object").session_reused());
        w.write("again\n");
        std::string reply = co_await bounded(r.readline());
        EXPECT_EQ(reply, "again\n");
        co_await bounded(close_and_wait(w));
    }
    EXPECT_FALSE(reused.at(0));
    EXPECT_TRUE(reused.at(1));
}

TEST_F(TlsPeers, TulipClientResumesItsSessionWithPythonServer) {
    Peer peer;
    auto body = [](Peer* p) -> Coro<void> {
        std::vector<std::string> args{
            "server", "--count", "2", "--cert", test_pki().server.cert, "--key", test_pki().server.key};
        co_await start_python(p, args);
        co_await guarded(p, client_resumes(p));
    };
    run_io(body(&peer));
    EXPECT_EQ(peer.proc->returncode(), 0) << peer.describe();
    EXPECT_TRUE(contains(peer.out, "\"reused\": true")) << peer.describe();  // Python saw it too
}

// ---- foreign clients against a tulip server -------------------------------------------

TEST_F(TlsPeers, PythonClientTalksToTulipServer) {
    Seen seen;
    Peer peer;
    auto body = [](Seen* s, Peer* p) -> Coro<void> {
        ssl::SSLContext ctx = server_ctx(test_pki().server);
        std::vector<std::string> alpn{"http/1.1"};
        ctx.set_alpn_protocols(alpn);
        Server server = co_await tls_echo_server(s, ctx);
        std::vector<std::string> args{"client",     "--port",           std::to_string(port_of(server)),
                                      "--cafile",   test_pki().ca.cert, "--alpn",
                                      "h2,http/1.1"};
        co_await start_python(p, args);
        co_await finish(p, false);
        co_await close_and_wait(server);
    };
    run_io(body(&seen, &peer));
    EXPECT_EQ(peer.proc->returncode(), 0) << peer.describe();
    EXPECT_TRUE(contains(peer.out, "\"reply\": \"hello from python\\n\"")) << peer.describe();
    EXPECT_TRUE(contains(peer.out, "\"alpn\": \"http/1.1\"")) << peer.describe();
    EXPECT_TRUE(contains(peer.out, "\"version\": \"TLSv1.3\"")) << peer.describe();
    EXPECT_TRUE(contains(peer.out, "\"peer_cn\": \"localhost\"")) << peer.describe();
    EXPECT_EQ(seen.connections, 1);
    EXPECT_EQ(seen.tls_version, "TLSv1.3");
    EXPECT_EQ(seen.alpn, "http/1.1");
    EXPECT_EQ(seen.sni, "localhost");
    EXPECT_FALSE(seen.peercert.has_value());  // no client certificate asked
    EXPECT_EQ(seen.line, "hello from python\n");
}

TEST_F(TlsPeers, OpensslClientTalksToTulipServer) {
    Seen seen;
    Peer peer;
    auto body = [](Seen* s, Peer* p) -> Coro<void> {
        ssl::SSLContext ctx = server_ctx(test_pki().server);
        std::vector<std::string> alpn{"http/1.1"};
        ctx.set_alpn_protocols(alpn);
        Server server = co_await tls_echo_server(s, ctx);
        std::vector<std::string> args{"s_client",
                                      "-connect",
                                      "127.0.0.1:" + std::to_string(port_of(server)),
                                      "-servername",
                                      "localhost",
                                      "-verify_hostname",
                                      "localhost",
                                      "-CAfile",
                                      test_pki().ca.cert,
                                      "-verify_return_error",
                                      "-alpn",
                                      "h2,http/1.1",
                                      "-ign_eof"};
        co_await spawn(p, kOpenssl, args);
        // s_client sends its stdin, then (-ign_eof) waits for our close.
        std::string input = "hello openssl\n";
        auto res = co_await bounded(p->proc->communicate(input));
        p->out = res.first.value_or("");
        p->err = res.second.value_or("");
        co_await close_and_wait(server);
    };
    run_io(body(&seen, &peer));
    EXPECT_EQ(peer.proc->returncode(), 0) << peer.describe();
    EXPECT_TRUE(contains(peer.out, "hello openssl\n")) << peer.describe();
    EXPECT_TRUE(contains(peer.out, "Verify return code: 0 (ok)")) << peer.describe();
    EXPECT_TRUE(contains(peer.out, "ALPN protocol: http/1.1")) << peer.describe();
    EXPECT_TRUE(contains(peer.out, "TLSv1.3")) << peer.describe();
    EXPECT_EQ(seen.connections, 1);
    EXPECT_EQ(seen.alpn, "http/1.1");
    EXPECT_EQ(seen.sni, "localhost");
    EXPECT_EQ(seen.line, "hello openssl\n");
}

// ---- certificate failures -------------------------------------------------------------

// Connects to a Python server that presents `cert`; returns the error.
Coro<void> expect_verify_failure(Peer* peer, std::string server_hostname, long code, std::string in_message) {
    try {
        auto conn = co_await tls_connect(peer->port, client_ctx(), server_hostname);
        conn.second.close();
        ADD_FAILURE() << "the handshake succeeded";
    } catch (const ssl::SSLCertVerificationError& e) {
        EXPECT_EQ(e.verify_code(), code) << e.what();
        EXPECT_TRUE(contains(e.what(), in_message)) << e.what();
    }
}

Coro<void> verify_failure_test(Peer* p, test::CertFiles cert, std::string host, long code, std::string msg) {
    std::vector<std::string> args{"server", "--cert", cert.cert, "--key", cert.key};
    co_await start_python(p, args);
    co_await guarded(p, expect_verify_failure(p, host, code, msg));
}

TEST_F(TlsPeers, HostnameMismatchNamesTheHost) {
    Peer peer;
    run_io(verify_failure_test(&peer, test_pki().wrong_host, "localhost", X509_V_ERR_HOSTNAME_MISMATCH, "localhost"));
    EXPECT_NE(peer.proc->returncode(), 0) << peer.describe();  // the server saw the failure too
}

TEST_F(TlsPeers, ExpiredCertificateIsRefused) {
    Peer peer;
    run_io(verify_failure_test(&peer, test_pki().expired, "localhost", X509_V_ERR_CERT_HAS_EXPIRED, "expired"));
    EXPECT_NE(peer.proc->returncode(), 0) << peer.describe();
}

TEST_F(TlsPeers, UnknownCaIsRefused) {
    Peer peer;
    run_io(verify_failure_test(&peer, test_pki().unknown, "localhost", X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
                               "localhost"));
    EXPECT_NE(peer.proc->returncode(), 0) << peer.describe();
}

// ---- mutual TLS -----------------------------------------------------------------------

std::vector<std::string> mtls_server_args() {
    return {"server", "--cert", test_pki().server.cert, "--key", test_pki().server.key, "--cafile", test_pki().ca.cert};
}

// Without a client certificate the server refuses: in TLS 1.3 the client may
// finish its handshake first and see the refusal on its first read.
Coro<void> client_without_certificate(Peer* peer) {
    bool refused = false;
    try {
        StreamPair conn = co_await tls_connect(peer->port, client_ctx(), "localhost");
        auto [r, w] = std::move(conn);
        w.write("hello\n");
        std::string reply = co_await bounded(r.readline());
        refused = reply.empty();  // EOF, no echo
        w.close();
        co_await bounded(w.wait_closed());
    } catch (const std::system_error&) {
        refused = true;
    }
    EXPECT_TRUE(refused);
}

TEST_F(TlsPeers, MutualTlsWithoutClientCertificateFails) {
    Peer peer;
    auto body = [](Peer* p) -> Coro<void> {
        co_await start_python(p, mtls_server_args());
        co_await guarded(p, client_without_certificate(p));
    };
    run_io(body(&peer));
    EXPECT_NE(peer.proc->returncode(), 0) << peer.describe();
    EXPECT_TRUE(contains(peer.out, "error")) << peer.describe();
}

Coro<void> client_with_certificate(Peer* peer) {
    ssl::SSLContext ctx = client_ctx();
    ctx.load_cert_chain(test_pki().client.cert, test_pki().client.key);
    StreamPair conn = co_await tls_connect(peer->port, ctx, "localhost");
    std::string reply = co_await ask(std::move(conn), "with cert\n");
    EXPECT_EQ(reply, "with cert\n");
}

TEST_F(TlsPeers, MutualTlsWithClientCertificateWorks) {
    Peer peer;
    auto body = [](Peer* p) -> Coro<void> {
        co_await start_python(p, mtls_server_args());
        co_await guarded(p, client_with_certificate(p));
    };
    run_io(body(&peer));
    EXPECT_EQ(peer.proc->returncode(), 0) << peer.describe();
    EXPECT_TRUE(contains(peer.out, "\"peer_cn\": \"tulip client\"")) << peer.describe();
}

ssl::SSLContext mtls_server_ctx() {
    ssl::SSLContext ctx = server_ctx(test_pki().server);
    ctx.set_verify_mode(ssl::CERT_REQUIRED);
    ctx.load_verify_locations(test_pki().ca.cert);
    return ctx;
}

TEST_F(TlsPeers, TulipServerSeesThePythonClientsCertificate) {
    Seen seen;
    Peer peer;
    auto body = [](Seen* s, Peer* p) -> Coro<void> {
        Server server = co_await tls_echo_server(s, mtls_server_ctx());
        std::vector<std::string> args{"client",
                                      "--port",
                                      std::to_string(port_of(server)),
                                      "--cafile",
                                      test_pki().ca.cert,
                                      "--cert",
                                      test_pki().client.cert,
                                      "--key",
                                      test_pki().client.key};
        co_await start_python(p, args);
        co_await finish(p, false);
        co_await close_and_wait(server);
    };
    run_io(body(&seen, &peer));
    EXPECT_EQ(peer.proc->returncode(), 0) << peer.describe();
    EXPECT_EQ(seen.connections, 1);
    ASSERT_TRUE(seen.peercert.has_value());
    EXPECT_TRUE(has_name(seen.peercert->subject, "commonName", "tulip client"));
    EXPECT_TRUE(has_name(seen.peercert->issuer, "commonName", "tulip test CA"));
}

TEST_F(TlsPeers, TulipServerRefusesAPythonClientWithoutCertificate) {
    expect_handler_calls = true;  // a failed handshake may be reported (debug mode)
    Seen seen;
    Peer peer;
    auto body = [](Seen* s, Peer* p) -> Coro<void> {
        Server server = co_await tls_echo_server(s, mtls_server_ctx());
        std::vector<std::string> args{"client", "--port", std::to_string(port_of(server)), "--cafile",
                                      test_pki().ca.cert};
        co_await start_python(p, args);
        co_await finish(p, false);
        co_await close_and_wait(server);
    };
    run_io(body(&seen, &peer));
    EXPECT_NE(peer.proc->returncode(), 0) << peer.describe();
    EXPECT_TRUE(contains(peer.out, "error")) << peer.describe();
    EXPECT_EQ(seen.connections, 0);  // the handler never saw it
}

// ---- STARTTLS -------------------------------------------------------------------------

Coro<void> starttls_client(Peer* peer) {
    test::Record rec;
    auto factory = [&rec] { return std::make_unique<test::Recorder>(&rec); };
    auto conn = co_await bounded(create_connection(factory, "127.0.0.1", peer->port));
    Ref<Transport> plain = conn.first;
    auto pred1 = [&] { return contains(rec.data, "220 plain hello\n"); };
    co_await bounded(eventually(pred1));
    plain->write("STARTTLS\n");
    auto pred2 = [&] { return contains(rec.data, "220 go ahead\n"); };
    co_await bounded(eventually(pred2));
    rec.data.clear();
    StartTLSOptions opts;
    opts.server_hostname = "localhost";
    opts.ssl_handshake_timeout = kStep;
    Ref<Transport> secure = co_await bounded(start_tls(plain, client_ctx(), opts));
    CO_ASSERT(secure);
    EXPECT_EQ(extra<std::string>(secure->get_extra_info("tls_version"), "tls_version"), "TLSv1.3");
    auto cert = extra<ssl::PeerCert>(secure->get_extra_info("peercert"), "peercert");
    EXPECT_TRUE(has_name(cert.subject, "commonName", "localhost"));
    secure->write("over tls\n");
    auto pred3 = [&] { return rec.data == "over tls\n"; };
    co_await bounded(eventually(pred3));
    secure->close();
    auto pred4 = [&] { return rec.lost == 1; };
    co_await bounded(eventually(pred4));
    EXPECT_EQ(rec.events.front(), "made");  // once: start_tls makes no second connection_made
    EXPECT_EQ(std::count(rec.events.begin(), rec.events.end(), "made"), 1);
}

TEST_F(TlsPeers, StartTlsUpgradesAPlainConnection) {
    Peer peer;
    auto body = [](Peer* p) -> Coro<void> {
        std::vector<std::string> args{"server", "--action",           "starttls", "--cert", test_pki().server.cert,
                                      "--key",  test_pki().server.key};
        co_await start_python(p, args);
        co_await guarded(p, starttls_client(p));
    };
    run_io(body(&peer));
    EXPECT_EQ(peer.proc->returncode(), 0) << peer.describe();
    EXPECT_TRUE(contains(peer.out, "\"plain\": \"STARTTLS\"")) << peer.describe();
    EXPECT_TRUE(contains(peer.out, "\"lines\": 1")) << peer.describe();
}

Coro<void> stream_starttls_client(Peer* peer) {
    StreamPair conn = co_await bounded(open_connection("127.0.0.1", peer->port));
    auto [r, w] = std::move(conn);
    std::string hello = co_await bounded(r.readline());
    EXPECT_EQ(hello, "220 plain hello\n");
    w.write("STARTTLS\n");
    std::string go = co_await bounded(r.readline());
    EXPECT_EQ(go, "220 go ahead\n");
    StartTLSOptions opts;
    opts.server_hostname = "localhost";
    opts.ssl_handshake_timeout = kStep;
    ssl::SSLContext ctx = client_ctx();
    co_await bounded(w.start_tls(ctx, opts));
    EXPECT_EQ(extra_of<std::string>(w, "tls_version"), "TLSv1.3");
    EXPECT_TRUE(has_name(extra_of<ssl::PeerCert>(w, "peercert").subject, "commonName", "localhost"));
    w.write("stream over tls\n");
    std::string echoed = co_await bounded(r.readline());
    EXPECT_EQ(echoed, "stream over tls\n");
    co_await bounded(close_and_wait(w));
}

TEST_F(TlsPeers, StreamWriterStartTlsUpgradesAPlainStream) {
    Peer peer;
    auto body = [](Peer* p) -> Coro<void> {
        std::vector<std::string> args{"server", "--action",           "starttls", "--cert", test_pki().server.cert,
                                      "--key",  test_pki().server.key};
        co_await start_python(p, args);
        co_await guarded(p, stream_starttls_client(p));
    };
    run_io(body(&peer));
    EXPECT_EQ(peer.proc->returncode(), 0) << peer.describe();
    EXPECT_TRUE(contains(peer.out, "\"plain\": \"STARTTLS\"")) << peer.describe();
    EXPECT_TRUE(contains(peer.out, "\"lines\": 1")) << peer.describe();
}

// ---- 64 MiB each way ------------------------------------------------------------------

constexpr std::size_t kBulk = 64u << 20;

Coro<void> bulk_client(Peer* peer) {
    StreamPair conn = co_await tls_connect(peer->port, client_ctx(), "localhost");
    auto [r, w] = std::move(conn);
    // Up: 64 MiB of a pattern that differs per block; Python answers its hash.
    Sha256 up;
    std::string block(1 << 20, '\0');
    for (std::size_t off = 0; off < kBulk; off += block.size()) {
        for (std::size_t i = 0; i < block.size(); ++i) block[i] = static_cast<char>((off / block.size() + i) % 251);
        up.update(block);
        w.write(block);
        co_await bounded(w.drain());
    }
    std::string their_up = co_await bounded(r.readline());
    EXPECT_EQ(their_up, up.hex() + "\n");
    // Down: 64 MiB of random bytes, then their hash.
    Sha256 down;
    std::size_t got = 0;
    while (got < kBulk) {
        std::string chunk =
            co_await bounded(r.read(static_cast<std::ptrdiff_t>(std::min<std::size_t>(kBulk - got, 1 << 20))));
        CO_ASSERT(!chunk.empty());
        down.update(chunk);
        got += chunk.size();
    }
    std::string their_down = co_await bounded(r.readline());
    EXPECT_EQ(their_down, down.hex() + "\n");
    co_await bounded(close_and_wait(w));
}

TEST_F(TlsPeers, SixtyFourMebibytesEachWayArriveIntact) {
    Peer peer;
    auto body = [](Peer* p) -> Coro<void> {
        std::vector<std::string> args{
            "server", "--action",           "bulk", "--size", std::to_string(kBulk), "--cert", test_pki().server.cert,
            "--key",  test_pki().server.key};
        co_await start_python(p, args);
        co_await guarded(p, bulk_client(p));
    };
    // 128 MiB through two TLS stacks (one in a debug build): more than the
    // usual bound, still far from a hang.
    run(wait_for(body(&peer), 60.0));
    EXPECT_EQ(peer.proc->returncode(), 0) << peer.describe();
    EXPECT_TRUE(contains(peer.out, "\"received\": " + std::to_string(kBulk))) << peer.describe();
}

// ---- a peer that leaves without close_notify ------------------------------------------

Coro<void> abrupt_client(Peer* peer) {
    test::Record rec;
    auto factory = [&rec] { return std::make_unique<test::Recorder>(&rec); };
    ConnectOptions o;
    o.ssl = client_ctx();
    o.server_hostname = "localhost";
    o.ssl_handshake_timeout = kStep;
    auto conn = co_await bounded(create_connection(factory, "127.0.0.1", peer->port, o));
    // The peer sends a line, then a FIN without close_notify: we see the
    // line, then the connection ends (EOF or an error), and nothing hangs.
    auto pred5 = [&] { return rec.lost == 1; };
    co_await bounded(eventually(pred5));
    EXPECT_EQ(rec.data, "hello\n");
    EXPECT_TRUE(conn.first->is_closing());
}

TEST_F(TlsPeers, AbruptCloseWithoutCloseNotifyEndsTheConnection) {
    Peer peer;
    auto body = [](Peer* p) -> Coro<void> {
        std::vector<std::string> args{"server", "--action",           "abrupt", "--cert", test_pki().server.cert,
                                      "--key",  test_pki().server.key};
        co_await start_python(p, args);
        co_await guarded(p, abrupt_client(p));
    };
    run_io(body(&peer));
    EXPECT_EQ(peer.proc->returncode(), 0) << peer.describe();
}

// ---- garbage sent to a TLS server -----------------------------------------------------

// Sends bytes over plain TCP; returns true when the server closed on us.
Coro<bool> plain_bytes_get_closed(std::uint16_t port, std::string bytes) {
    StreamPair conn = co_await bounded(open_connection("127.0.0.1", port));
    auto [r, w] = std::move(conn);
    bool closed = false;
    try {
        w.write(bytes);
        for (int i = 0; i < 1000; ++i) {
            std::string got = co_await bounded(r.read(65536));
            if (got.empty()) break;  // an alert may come first
        }
        closed = true;
    } catch (const std::system_error&) {
        closed = true;  // reset: also closed
    }
    w.close();
    try {
        co_await bounded(w.wait_closed());
    } catch (const std::system_error&) {}
    co_return closed;
}

Coro<void> garbage_then_good_client(Seen* s, std::string garbage) {
    Server server = co_await tls_echo_server(s, server_ctx(test_pki().server));
    bool closed = co_await plain_bytes_get_closed(port_of(server), garbage);
    EXPECT_TRUE(closed);
    EXPECT_EQ(s->connections, 0);
    StreamPair conn = co_await tls_connect(port_of(server), client_ctx(), "localhost");
    std::string reply = co_await ask(std::move(conn), "fine\n");
    EXPECT_EQ(reply, "fine\n");
    EXPECT_EQ(s->connections, 1);
    co_await close_and_wait(server);
}

TEST_F(TlsPeers, RandomBytesToATlsServerCloseThatConnectionOnly) {
    expect_handler_calls = true;  // a failed handshake may be reported (debug mode)
    std::mt19937 rng(11);
    std::string garbage(4096, '\0');
    for (auto& c : garbage) c = static_cast<char>(rng() & 0xff);
    garbage[0] = '\x00';  // no valid record type: the server cannot wait for more
    Seen seen;
    run_io(garbage_then_good_client(&seen, garbage));
}

TEST_F(TlsPeers, PlainHttpToATlsServerClosesThatConnectionOnly) {
    expect_handler_calls = true;
    Seen seen;
    run_io(garbage_then_good_client(&seen, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
}

Coro<void> stalled_hello_then_good_client(Seen* s) {
    Server server = co_await tls_echo_server(s, server_ctx(test_pki().server), 0.5);
    // A handshake record header that promises 512 bytes, then silence: only
    // the handshake timeout can end it.
    std::string stall("\x16\x03\x01\x02\x00", 5);
    bool closed = co_await plain_bytes_get_closed(port_of(server), stall);
    EXPECT_TRUE(closed);
    EXPECT_EQ(s->connections, 0);
    StreamPair conn = co_await tls_connect(port_of(server), client_ctx(), "localhost");
    std::string reply = co_await ask(std::move(conn), "still fine\n");
    EXPECT_EQ(reply, "still fine\n");
    co_await close_and_wait(server);
}

TEST_F(TlsPeers, AStalledHandshakeIsClosedAtTheHandshakeTimeout) {
    expect_handler_calls = true;
    Seen seen;
    run_io(stalled_hello_then_good_client(&seen));
}

}  // namespace tls_tls_peers_test
