// tests/http/client_peers_test.cpp — tulip's ClientSession against servers
// nobody here wrote: nginx (Debian's nginx-light, on a config this test
// writes, plain and TLS), aiohttp.web (tests/http/peers/aiohttp_server.py)
// and Python's http.server. Keep-alive reuse counted on the server's side,
// chunked and compressed bodies, redirects, large bodies with checksums, a
// server that stalls (timeouts) and one that closes mid-body.
//
// Every server is a child started with tulip's subprocess API and stopped
// (terminated, then killed) at the end of its test; each wait is bounded,
// and a missing peer skips the test.
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tulip/http/client_session.hpp>
#include <tulip/http/form_data.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <tulip/net/connection.hpp>
#include <tulip/process/subprocess.hpp>
#include <tulip/streams/stream_reader.hpp>

#include "support/loop_test.hpp"
#include "support/net.hpp"
#include "support/tls_certs.hpp"

namespace http_client_peers_test {

#ifndef TULIP_HTTP_PEERS_DIR
#error "TULIP_HTTP_PEERS_DIR must name tests/http/peers (tests/CMakeLists.txt)"
#endif

using namespace tulip;

namespace {

const char* const kPython = "/usr/bin/python3";
const char* const kNginx = "/usr/sbin/nginx";
const char* const kAiohttp = "/usr/lib/python3/dist-packages/aiohttp/__init__.py";
// Starting Python and importing aiohttp takes seconds on a loaded machine.
constexpr double kStartTimeout = 30.0;
constexpr double kTestTimeout = 60.0;

bool exists(const char* path) { return ::access(path, R_OK) == 0; }

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i % 251);
    return s;
}

std::string sha256_hex(const std::string& data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
        out.push_back(hex[md[i] >> 4]);
        out.push_back(hex[md[i] & 15]);
    }
    return out;
}

// A directory removed at the end of the scope.
struct TempDir {
    std::string path;
    TempDir() {
        char name[] = "/tmp/tulip_client_peer_XXXXXX";
        if (!::mkdtemp(name)) throw std::runtime_error("mkdtemp failed");
        path = name;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    void write(const std::string& name, const std::string& content) const {
        std::ofstream(path + "/" + name, std::ios::binary) << content;
    }
};

// A server child: started, its port learned, stopped at the end.
class PeerServer {
public:
    // Starts program and waits for a stdout line holding "port N" (aiohttp
    // script, http.server's "Serving HTTP on ... port N").
    static Coro<PeerServer> start_reporting(std::string program, std::vector<std::string> args) {
        PeerServer s;
        s.p_ = co_await start(std::move(program), std::move(args));
        auto read_port = [&s]() -> Coro<std::uint16_t> {
            for (;;) {
                std::string line = co_await s.p_->std_out->readline();
                if (line.empty()) throw std::runtime_error("the server exited before it served");
                auto at = line.find("port ");
                if (at != std::string::npos) co_return static_cast<std::uint16_t>(std::stoi(line.substr(at + 5)));
            }
        };
        s.port = co_await wait_for(read_port(), kStartTimeout);
        co_return s;
    }
    // Starts program and waits until 127.0.0.1:port accepts connections.
    static Coro<PeerServer> start_on(std::string program, std::vector<std::string> args, std::uint16_t port) {
        PeerServer s;
        s.p_ = co_await start(std::move(program), std::move(args));
        s.port = port;
        double until = get_running_loop().time() + kStartTimeout;
        for (;;) {
            bool up = false;
            try {
                Socket c = co_await open_tcp_socket("127.0.0.1", port);
                c.close();
                up = true;
            } catch (const std::exception&) {}
            if (up) break;
            if (s.p_->returncode()) throw std::runtime_error("the server exited before it served");
            if (get_running_loop().time() > until) throw std::runtime_error("the server did not start in time");
            co_await sleep(0.02);
        }
        co_return s;
    }
    Coro<void> stop() {
        if (!p_ || p_->returncode()) co_return;
        try {
            p_->terminate();
        } catch (const std::exception&) {}
        bool timed_out = false;
        try {
            co_await wait_for(p_->wait(), 5.0);
        } catch (const TimeoutError&) {
            timed_out = true;
        }
        if (timed_out) {
            p_->kill();
            co_await p_->wait();
        }
    }
    std::string url(const std::string& path, const char* scheme = "http") const {
        return std::string(scheme) + "://127.0.0.1:" + std::to_string(port) + path;
    }
    std::uint16_t port = 0;

private:
    static Coro<Process> start(std::string program, std::vector<std::string> args) {
        SubprocessOptions o;
        o.std_in = DEVNULL;
        o.std_out = PIPE;
        o.std_err = DEVNULL;
        co_return co_await create_subprocess_exec(std::move(program), std::move(args), o);
    }
    std::optional<Process> p_;
};

class HttpClientPeersTest : public test::IoLoopTest {
protected:
    template <class A>
    void run_peers(A&& a) {
        try {
            run(wait_for(std::forward<A>(a), kTestTimeout));
        } catch (...) {
            cancel_all_tasks(*loop_);
            loop_->run_until_complete(tulip::shutdown_default_executor(*loop_));
            loop_->close();
            throw;
        }
    }
};

// ---- aiohttp.web -------------------------------------------------------------------------------

TEST_F(HttpClientPeersTest, AiohttpServer) {
    if (!exists(kPython) || !exists(kAiohttp)) GTEST_SKIP() << "python3-aiohttp is not installed";
    run_peers(([&]() -> Coro<void> {
        // GCC 12.2: no braced list inside a co_await expression (docs/asyncio.md, "Compiler notes").
        std::vector<std::string> args{"-I", std::string(TULIP_HTTP_PEERS_DIR) + "/aiohttp_server.py"};
        PeerServer server = co_await PeerServer::start_reporting(kPython, std::move(args));
        std::exception_ptr failed;
        try {
            http::ClientSession session;
            // Keep-alive: ten requests, one connection on the server's side.
            for (int i = 0; i < 10; ++i) {
                http::ClientResponse r = co_await session.get(server.url("/hello"));
                EXPECT_EQ(co_await r.read(), "hello");
            }
            http::ClientResponse stats = co_await session.get(server.url("/stats"));
            EXPECT_EQ(co_await stats.read(), "1");
            EXPECT_EQ(session.connections_made(), 1u);

            http::ClientResponse r = co_await session.get(server.url("/chunked"));
            EXPECT_EQ(r.headers().get("Transfer-Encoding", ""), "chunked");
            std::string lines;
            for (int i = 0; i < 10; ++i) lines += "chunk " + std::to_string(i) + "\n";
            EXPECT_EQ(co_await r.read(), lines);

            for (const char* coding : {"gzip", "deflate"}) {
                r = co_await session.get(server.url(std::string("/compressed/") + coding));
                EXPECT_EQ(r.headers().get("Content-Encoding", ""), coding);
                std::string body = co_await r.read();
                EXPECT_EQ(body.size(), 300'000u) << coding;
                EXPECT_EQ(sha256_hex(body), r.headers().get("X-SHA256", "")) << coding;
            }

            r = co_await session.get(server.url("/big?n=5000000"));
            std::string big;
            auto parts = r.iter_chunked(64 * 1024);
            while (auto p = co_await parts.next()) big += *p;
            EXPECT_EQ(big.size(), 5'000'000u);
            EXPECT_EQ(sha256_hex(big), r.headers().get("X-SHA256", ""));

            std::string upload = pattern(2'000'000);
            http::RequestOptions ro;
            ro.data = upload;
            r = co_await session.post(server.url("/echo"), std::move(ro));
            EXPECT_EQ(co_await r.read(), "POST 2000000 " + sha256_hex(upload));

            {
                // aiohttp's multipart reader takes our form apart.
                TempDir files;
                std::string photo = pattern(300'000);
                files.write("tulips.jpg", photo);
                http::FormData form;
                form.add_field("title", "spring");
                form.add_file("photo", files.path + "/tulips.jpg");
                http::RequestOptions mo;
                mo.multipart = std::move(form);
                r = co_await session.post(server.url("/multipart"), std::move(mo));
                EXPECT_EQ(co_await r.read(),
                          "photo=file:tulips.jpg:image/jpeg:300000:" + sha256_hex(photo) + "\ntitle=spring");
            }

            // Cookies set by aiohttp (on a redirect) come back.
            r = co_await session.get(server.url("/whoami"));
            EXPECT_EQ(co_await r.read(), "-");
            r = co_await session.get(server.url("/login"));
            EXPECT_EQ(co_await r.read(), "session=s3cr3t");  // prefs is for /prefs only
            EXPECT_EQ(session.cookie_jar().size(), 2u);

            r = co_await session.get(server.url("/redirect"));
            EXPECT_EQ(r.status(), 200);
            EXPECT_EQ(r.history().size(), 1u);
            EXPECT_EQ(co_await r.read(), "hello");

            http::RequestOptions quick;
            http::ClientTimeout t;
            t.sock_read = 0.2;
            quick.timeout = t;
            bool timed_out = false;
            try {
                (void)co_await session.get(server.url("/stall"), std::move(quick));
            } catch (const TimeoutError&) {
                timed_out = true;
            }
            EXPECT_TRUE(timed_out);

            r = co_await session.get(server.url("/cut"));
            bool cut = false;
            try {
                (void)co_await r.read();
            } catch (const http::ClientPayloadError&) {
                cut = true;
            }
            EXPECT_TRUE(cut);
            co_await session.close();
        } catch (...) {
            failed = std::current_exception();
        }
        co_await server.stop();
        if (failed) std::rethrow_exception(failed);
    })());
}

// ---- Python's http.server ------------------------------------------------------------------------

TEST_F(HttpClientPeersTest, PythonHttpServer) {
    if (!exists(kPython)) GTEST_SKIP() << "python3 is not installed";
    TempDir dir;
    std::string file = pattern(1'500'000);
    dir.write("file.bin", file);
    dir.write("index.txt", "an index\n");
    run_peers(([&]() -> Coro<void> {
        std::vector<std::string> args{"-I",          "-u",     "-m", "http.server", "--bind", "127.0.0.1",
                                      "--directory", dir.path, "0"};
        PeerServer server = co_await PeerServer::start_reporting(kPython, std::move(args));
        std::exception_ptr failed;
        try {
            http::ClientSession session;
            for (int i = 0; i < 3; ++i) {
                http::ClientResponse r = co_await session.get(server.url("/file.bin"));
                EXPECT_EQ(r.status(), 200);
                EXPECT_EQ(r.version_minor(), 0);  // HTTP/1.0: a connection per request
                std::string body = co_await r.read();
                EXPECT_EQ(body.size(), file.size());
                EXPECT_TRUE(body == file);
            }
            EXPECT_EQ(session.connections_made(), 3u);
            http::ClientResponse r = co_await session.get(server.url("/index.txt"));
            EXPECT_EQ(co_await r.text(), "an index\n");
            r = co_await session.get(server.url("/missing"));
            EXPECT_EQ(r.status(), 404);
            // The directory listing.
            r = co_await session.get(server.url(""));
            EXPECT_EQ(r.status(), 200);
            EXPECT_NE((co_await r.text()).find("file.bin"), std::string::npos);
            co_await session.close();
        } catch (...) {
            failed = std::current_exception();
        }
        co_await server.stop();
        if (failed) std::rethrow_exception(failed);
    })());
}

// ---- nginx ------------------------------------------------------------------------------------------

TEST_F(HttpClientPeersTest, Nginx) {
    if (!exists(kNginx)) GTEST_SKIP() << "nginx is not installed (nginx-light)";
    TempDir dir;
    std::filesystem::create_directories(dir.path + "/www");
    std::filesystem::create_directories(dir.path + "/tmp");
    std::string file = pattern(3'000'000);
    dir.write("www/file.bin", file);
    std::string text;
    for (int i = 0; i < 20000; ++i) text += "text line " + std::to_string(i) + "\n";
    dir.write("www/page.txt", text);
    const std::uint16_t port = test::closed_address().port();
    const std::uint16_t tls_port = test::closed_address().port();
    const std::string p = dir.path;
    std::string conf =
        "daemon off; master_process off; worker_processes 1;\n"
        "pid " +
        p + "/nginx.pid; error_log " + p +
        "/error.log;\n"
        "events { worker_connections 64; }\n"
        "http {\n"
        "  access_log off;\n"
        "  client_body_temp_path " +
        p + "/tmp; proxy_temp_path " + p + "/tmp; fastcgi_temp_path " + p +
        "/tmp;\n"
        "  uwsgi_temp_path " +
        p + "/tmp; scgi_temp_path " + p +
        "/tmp;\n"
        "  keepalive_requests 1000;\n"
        "  gzip on; gzip_types text/plain; gzip_min_length 1;\n"
        "  types { text/plain txt; application/octet-stream bin; }\n"
        "  server {\n"
        "    listen 127.0.0.1:" +
        std::to_string(port) +
        ";\n"
        "    listen 127.0.0.1:" +
        std::to_string(tls_port) +
        " ssl;\n"
        "    ssl_certificate " +
        test::test_pki().server.cert +
        ";\n"
        "    ssl_certificate_key " +
        test::test_pki().server.key +
        ";\n"
        "    root " +
        p +
        "/www;\n"
        "    location = /conn { add_header X-Conn \"$connection $connection_requests\" always; return 200 ok; }\n"
        "    location = /moved { return 301 /page.txt; }\n"
        "  }\n"
        "}\n";
    dir.write("nginx.conf", conf);
    run_peers(([&]() -> Coro<void> {
        std::vector<std::string> args{"-p", p, "-c", p + "/nginx.conf"};
        PeerServer server = co_await PeerServer::start_on(kNginx, std::move(args), port);
        std::exception_ptr failed;
        try {
            http::ClientSession session;
            // Keep-alive counted by nginx: one connection, requests 1, 2, 3...
            for (int i = 1; i <= 5; ++i) {
                http::ClientResponse r = co_await session.get(server.url("/conn"));
                std::string conn(r.headers().get("X-Conn", ""));
                EXPECT_EQ(conn.substr(conn.find(' ') + 1), std::to_string(i)) << conn;
                EXPECT_EQ(co_await r.read(), "ok");
            }
            http::ClientResponse r = co_await session.get(server.url("/file.bin"));
            std::string body = co_await r.read();
            EXPECT_EQ(body.size(), file.size());
            EXPECT_TRUE(body == file);

            r = co_await session.get(server.url("/page.txt"));
            EXPECT_EQ(r.headers().get("Content-Encoding", ""), "gzip");
            EXPECT_EQ(r.headers().get("Transfer-Encoding", ""), "chunked");
            EXPECT_TRUE(co_await r.text() == text);

            r = co_await session.get(server.url("/moved"));
            EXPECT_EQ(r.history().size(), 1u);
            EXPECT_EQ(r.url().path, "/page.txt");
            EXPECT_EQ((co_await r.read()).size(), text.size());
            EXPECT_EQ(session.connections_made(), 1u);
            co_await session.close();

            // TLS, verified against the test CA.
            ssl::SSLContext ca(ssl::PROTOCOL_TLS_CLIENT);
            ca.load_verify_locations(test::test_pki().ca.cert);
            http::ClientSessionOptions o;
            o.ssl = ca;
            http::ClientSession tls(std::move(o));
            const std::string base = "https://localhost:" + std::to_string(tls_port);
            for (int i = 0; i < 3; ++i) {
                r = co_await tls.get(base + "/file.bin");
                body = co_await r.read();
                EXPECT_TRUE(body == file);
            }
            EXPECT_EQ(tls.connections_made(), 1u);
            co_await tls.close();
        } catch (...) {
            failed = std::current_exception();
        }
        co_await server.stop();
        if (failed) std::rethrow_exception(failed);
    })());
}

}  // namespace
}  // namespace http_client_peers_test
