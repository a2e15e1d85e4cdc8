// tests/http/peers_test.cpp — tulip's HTTP server against clients nobody here
// wrote: Debian's curl (GET, POST, two URLs on one kept-alive connection,
// HEAD, a chunked upload from a file, HTTP/1.0), Python's http.client and
// aiohttp's client (tests/http/peers/http_peer.py, run by Debian's
// /usr/bin/python3, which has python3-aiohttp) and wrk's pipelined load.
//
// Every peer is a child started with tulip's subprocess API; each run is
// bounded (killed and reaped on timeout), and a missing peer skips the test.
#include <unistd.h>

#include <tulip/http/server.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>  // mkstemp
#include <exception>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <tulip/process/subprocess.hpp>

#include "support/loop_test.hpp"

namespace http_peers_test {

#ifndef TULIP_HTTP_PEERS_DIR
#error "TULIP_HTTP_PEERS_DIR must name tests/http/peers (tests/CMakeLists.txt)"
#endif

using namespace tulip;

namespace {

const char* const kCurl = "/usr/bin/curl";
const char* const kPython = "/usr/bin/python3";
const char* const kWrk = "/usr/bin/wrk";
// One peer run, start to exit, and one test: generous, as starting Python
// and importing aiohttp takes seconds on a loaded machine.
constexpr double kPeerTimeout = 30.0;
constexpr double kTestTimeout = 60.0;
const char* const kAiohttp = "/usr/lib/python3/dist-packages/aiohttp/__init__.py";

bool executable(const char* path) { return ::access(path, X_OK) == 0; }

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

struct PeerRun {
    int rc = -1;
    std::string out;
    std::string err;
    std::string describe() const { return "exit " + std::to_string(rc) + "\nstdout:\n" + out + "\nstderr:\n" + err; }
};

// Runs program to its end (killed after kPeerTimeout) and returns its output.
Coro<PeerRun> run_peer(std::string program, std::vector<std::string> args) {
    SubprocessOptions o;
    o.std_in = DEVNULL;
    o.std_out = PIPE;
    o.std_err = PIPE;
    Process p = co_await create_subprocess_exec(std::move(program), std::move(args), o);
    PeerRun run;
    bool timed_out = false;
    std::exception_ptr error;
    try {
        auto res = co_await wait_for(p.communicate(), kPeerTimeout);
        run.out = res.first.value_or("");
        run.err = res.second.value_or("");
    } catch (const TimeoutError&) {
        timed_out = true;
    } catch (...) {
        error = std::current_exception();
    }
    if (timed_out || error) {
        if (!p.returncode()) {
            try {
                p.kill();
            } catch (const std::exception&) {
                // It exited in the meantime.
            }
        }
        co_await wait_for(p.wait(), kPeerTimeout);
        if (error) std::rethrow_exception(error);
        throw std::runtime_error("the peer did not finish in time");
    }
    run.rc = p.returncode().value_or(-1);
    co_return run;
}

// The part of curl's -D - output after the headers.
std::string body_of(const std::string& out) {
    auto at = out.find("\r\n\r\n");
    return at == std::string::npos ? std::string() : out.substr(at + 4);
}

// A temporary file removed at the end of the scope.
struct TempFile {
    std::string path;
    explicit TempFile(const std::string& content) {
        char name[] = "/tmp/tulip_http_peer_XXXXXX";
        int fd = ::mkstemp(name);
        if (fd < 0) throw std::runtime_error("mkstemp failed");
        ::close(fd);
        path = name;
        std::ofstream(path, std::ios::binary) << content;
    }
    ~TempFile() { std::remove(path.c_str()); }
};

class HttpPeersTest : public test::IoLoopTest {
protected:
    // run_io with a bound for peers (run_io's is for loopback I/O alone).
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

    static http::Application app() {
        http::Application a;
        a.get("/hello", [](http::Request&) -> Coro<http::Response> { co_return http::Response::text("hello"); });
        a.post("/echo", [](http::Request& r) -> Coro<http::Response> {
            std::string body = co_await r.read();
            http::Response resp(200, std::move(body), "application/octet-stream");
            resp.headers().add("X-Chunked", r.chunked() ? "yes" : "no");
            co_return resp;
        });
        // The client's port: equal for two requests on one connection.
        a.get("/peer", [](http::Request& r) -> Coro<http::Response> {
            co_return http::Response::text(std::to_string(r.remote().port()) + "\n");
        });
        a.get("/stream", [](http::Request& r) -> Coro<http::Response> {
            http::Response resp(200);
            resp.set_content_type("text/plain");
            co_await resp.prepare(r);
            co_await resp.write("part1-");
            co_await sleep(0.005);
            co_await resp.write("part2-");
            co_await resp.write("part3");
            co_await resp.write_eof();
            co_return resp;
        });
        a.get("/query", [](http::Request& r) -> Coro<http::Response> {
            co_return http::Response::text("a=" + std::string(r.query().get("a").value_or("-")) +
                                           " b=" + std::string(r.query().get("b").value_or("-")));
        });
        return a;
    }

    static Coro<http::Server> serve() { return http::start_server(app(), "127.0.0.1", 0); }

    static std::string url(const http::Server& s, const std::string& path) {
        return "http://127.0.0.1:" + std::to_string(s.addresses().at(0).port()) + path;
    }

    // curl, quiet but for errors, never through a proxy.
    // (Arguments one by one: GCC 12 mishandles a braced list inside co_await.)
    template <class... A>
    static Coro<PeerRun> curl(A... args) {
        std::vector<std::string> all{"-sS", "--noproxy", "*", "--max-time", "20", std::string(std::move(args))...};
        return run_peer(kCurl, std::move(all));
    }

    static Coro<PeerRun> python(std::string mode, std::uint16_t port) {
        std::vector<std::string> args{"-I", std::string(TULIP_HTTP_PEERS_DIR) + "/http_peer.py", std::move(mode),
                                      std::to_string(port)};
        return run_peer(kPython, std::move(args));
    }
};

// ---- curl -------------------------------------------------------------------------------------

TEST_F(HttpPeersTest, CurlGetAndPost) {
    if (!executable(kCurl)) GTEST_SKIP() << kCurl << " is not installed (apt-get install curl)";
    run_peers(([&]() -> Coro<void> {
        http::Server server = co_await serve();
        PeerRun get = co_await curl("-D", "-", url(server, "/hello"));
        EXPECT_EQ(get.rc, 0) << get.describe();
        EXPECT_EQ(get.out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << get.describe();
        EXPECT_TRUE(contains(get.out, "Content-Length: 5\r\n")) << get.describe();
        EXPECT_EQ(body_of(get.out), "hello");
        PeerRun post = co_await curl("-D", "-", "--data", "x=1&y=two", url(server, "/echo"));
        EXPECT_EQ(post.rc, 0) << post.describe();
        EXPECT_TRUE(contains(post.out, "X-Chunked: no\r\n")) << post.describe();
        EXPECT_EQ(body_of(post.out), "x=1&y=two");
        PeerRun missing = co_await curl("-o", "/dev/null", "-w", "%{http_code}", url(server, "/nope"));
        EXPECT_EQ(missing.out, "404") << missing.describe();
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpPeersTest, CurlTwoUrlsShareOneConnection) {
    if (!executable(kCurl)) GTEST_SKIP() << kCurl << " is not installed (apt-get install curl)";
    run_peers(([&]() -> Coro<void> {
        http::Server server = co_await serve();
        // Each transfer prints the client's port (the body) and how many new
        // connections curl made for it: 1, then 0 when kept alive.
        PeerRun r = co_await curl("-w", "%{num_connects}\n", url(server, "/peer"), url(server, "/peer"));
        EXPECT_EQ(r.rc, 0) << r.describe();
        std::string port = r.out.substr(0, r.out.find('\n'));
        EXPECT_FALSE(port.empty());
        EXPECT_EQ(r.out, port + "\n1\n" + port + "\n0\n") << r.describe();
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpPeersTest, CurlHead) {
    if (!executable(kCurl)) GTEST_SKIP() << kCurl << " is not installed (apt-get install curl)";
    run_peers(([&]() -> Coro<void> {
        http::Server server = co_await serve();
        PeerRun r = co_await curl("-I", url(server, "/hello"));
        EXPECT_EQ(r.rc, 0) << r.describe();
        EXPECT_EQ(r.out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r.describe();
        EXPECT_TRUE(contains(r.out, "Content-Length: 5\r\n")) << r.describe();
        EXPECT_EQ(body_of(r.out), "") << r.describe();
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpPeersTest, CurlChunkedUploadFromAFile) {
    if (!executable(kCurl)) GTEST_SKIP() << kCurl << " is not installed (apt-get install curl)";
    std::string content;
    for (int i = 0; content.size() < 300 * 1024; ++i) content += "line " + std::to_string(i) + "\n";
    TempFile file(content);
    run_peers(([&]() -> Coro<void> {
        http::Server server = co_await serve();
        PeerRun r = co_await curl("-D", "-", "-H", "Transfer-Encoding: chunked", "--data-binary", "@" + file.path,
                                  url(server, "/echo"));
        EXPECT_EQ(r.rc, 0) << r.err;
        EXPECT_TRUE(contains(r.out, "X-Chunked: yes\r\n")) << r.out.substr(0, 300);
        EXPECT_TRUE(body_of(r.out) == content) << "echoed " << body_of(r.out).size() << " of " << content.size();
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpPeersTest, CurlHttp10) {
    if (!executable(kCurl)) GTEST_SKIP() << kCurl << " is not installed (apt-get install curl)";
    run_peers(([&]() -> Coro<void> {
        http::Server server = co_await serve();
        PeerRun r = co_await curl("--http1.0", "-D", "-", url(server, "/hello"));
        EXPECT_EQ(r.rc, 0) << r.describe();
        EXPECT_EQ(r.out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r.describe();
        EXPECT_TRUE(contains(r.out, "Connection: close\r\n")) << r.describe();
        EXPECT_EQ(body_of(r.out), "hello");
        // A streamed answer to HTTP/1.0 has no chunking: it ends at the close.
        PeerRun s = co_await curl("--http1.0", "-D", "-", url(server, "/stream"));
        EXPECT_EQ(s.rc, 0) << s.describe();
        EXPECT_FALSE(contains(s.out, "Transfer-Encoding")) << s.describe();
        EXPECT_EQ(body_of(s.out), "part1-part2-part3") << s.describe();
        co_await server.shutdown(1.0);
    })());
}

// ---- Python -------------------------------------------------------------------------------------

// What http_peer.py prints for either client.
void expect_python_lines(const PeerRun& r, bool aiohttp) {
    EXPECT_EQ(r.rc, 0) << r.describe();
    std::vector<std::string> want{
        "get 200 hello\n",
        std::string("post 200 no ") + (aiohttp ? "aiohttp body" : "python body") + "\n",
        "same_connection True\n",
        "head 200 5 b''\n",
        "chunked_upload 200 yes chunk1-chunk2\n",
        "stream 200 chunked part1-part2-part3\n",
        "missing 404 404 Not Found\n",
        "done\n",
    };
    if (aiohttp) want.push_back("query 200 a=1 2 b=\xc3\xa9\n");
    for (auto& w : want) EXPECT_TRUE(contains(r.out, w)) << "missing: " << w << r.describe();
}

TEST_F(HttpPeersTest, PythonHttpClient) {
    if (!executable(kPython)) GTEST_SKIP() << kPython << " is not installed";
    run_peers(([&]() -> Coro<void> {
        http::Server server = co_await serve();
        PeerRun r = co_await python("httpclient", server.addresses().at(0).port());
        expect_python_lines(r, false);
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpPeersTest, AiohttpClient) {
    if (!executable(kPython)) GTEST_SKIP() << kPython << " is not installed";
    if (::access(kAiohttp, R_OK) != 0)
        GTEST_SKIP() << "aiohttp is not installed for " << kPython << " (apt-get install python3-aiohttp)";
    run_peers(([&]() -> Coro<void> {
        http::Server server = co_await serve();
        PeerRun r = co_await python("aiohttp", server.addresses().at(0).port());
        expect_python_lines(r, true);
        co_await server.shutdown(1.0);
    })());
}

// ---- wrk --------------------------------------------------------------------------------------

// wrk's own HTTP parser reads every response under load: 10 connections for
// a second, each pipelining a GET answered whole, a 20 KiB static file (the
// sendfile path) and a streamed chunked response. A malformed, short or
// misordered response shows in wrk's read or status errors.
TEST_F(HttpPeersTest, WrkPipelinedLoadGetsOnlyWholeValidResponses) {
    if (!executable(kWrk)) GTEST_SKIP() << "no " << kWrk;
    char dir_template[] = "/tmp/tulip_http_wrk_XXXXXX";
    ASSERT_NE(::mkdtemp(dir_template), nullptr);
    std::string dir = dir_template;
    std::string file(20 * 1024 + 5, 'x');
    std::ofstream(dir + "/f.bin", std::ios::binary) << file;
    TempFile script(
        "init = function(args)\n"
        "  req = wrk.format(nil, '/hello') .. wrk.format(nil, '/static/f.bin') .. wrk.format(nil, '/stream')\n"
        "end\n"
        "request = function() return req end\n"
        "done = function(summary, latency, requests)\n"
        "  local e = summary.errors\n"
        "  io.write(string.format('requests=%d connect=%d read=%d write=%d status=%d timeout=%d\\n',\n"
        "    summary.requests, e.connect, e.read, e.write, e.status, e.timeout))\n"
        "end\n");
    int hellos = 0;
    run_peers(([&]() -> Coro<void> {
        http::Application a = app();
        a.middleware([&hellos](http::Request& r, const http::Handler& next) -> Coro<http::Response> {
            if (r.path() == "/hello") ++hellos;
            http::Response resp = co_await next(r);
            co_return resp;
        });
        a.add_static("/static", dir);
        http::Server s = co_await http::start_server(std::move(a), "127.0.0.1", 0);
        std::vector<std::string> args{"-t1", "-c10", "-d1s", "--timeout", "5s", "-s", script.path, url(s, "/")};
        PeerRun r = co_await run_peer(kWrk, std::move(args));
        EXPECT_EQ(r.rc, 0) << r.describe();
        long requests = -1, connect = -1, read = -1, write = -1, status = -1, timeout = -1;
        auto at = r.out.find("requests=");
        int fields =
            at == std::string::npos
                ? 0
                : std::sscanf(r.out.c_str() + at, "requests=%ld connect=%ld read=%ld write=%ld status=%ld timeout=%ld",
                              &requests, &connect, &read, &write, &status, &timeout);
        EXPECT_EQ(fields, 6) << r.describe();
        EXPECT_GE(requests, 30) << r.describe();  // ten connections, at least one pipeline each
        EXPECT_EQ(connect + read + write + status + timeout, 0) << r.describe();
        // Each pipeline is three requests; wrk counts the answers it read whole.
        EXPECT_GE(hellos, requests / 3) << r.describe();
        co_await s.shutdown(5.0);
    })());
    std::string rm = "rm -rf '" + dir + "'";
    EXPECT_EQ(std::system(rm.c_str()), 0);
}

}  // namespace

}  // namespace http_peers_test
