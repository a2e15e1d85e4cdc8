// tests/http/client_test.cpp — http::ClientSession against tulip's own server
// and against scripted raw servers (for what a well-behaved server never
// does): keep-alive reuse and the pool's limits, bodies (length, chunked,
// close-delimited, compressed), redirects, timeouts, cancellation, and a
// server that closes, stalls or sends garbage.
#include <tulip/http/client_session.hpp>

#include <unistd.h>
#include <zlib.h>

#include <cerrno>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <tulip/http/fetch.hpp>
#include <tulip/http/form_data.hpp>
#include <tulip/http/json.hpp>
#include <tulip/http/server.hpp>
#include <tulip/streams/open_connection.hpp>

#include "support/coro_helpers.hpp"
#include "support/fake_dns.hpp"
#include "support/loop_test.hpp"
#include "support/net.hpp"
#include "support/tls_certs.hpp"

namespace http_client_test {

using namespace tulip;
using tulip::test::port_of;

namespace {

// gzip (wrapper 16 + 15), zlib-wrapped deflate (15) or raw deflate (-15).
std::string compress(const std::string& in, int window_bits) {
    z_stream z{};
    EXPECT_EQ(deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
    std::string out(deflateBound(&z, static_cast<uLong>(in.size())) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

std::string big_text(std::size_t n) {
    std::string s;
    s.reserve(n);
    for (std::size_t i = 0; s.size() < n; ++i) s += "line " + std::to_string(i) + " of a large body\n";
    s.resize(n);
    return s;
}

class HttpClientTest : public test::IoLoopTest {
protected:
    // Requests the server saw, and the client ports they came from (one
    // port per connection).
    int calls = 0;
    std::set<std::uint16_t> client_ports;
    int in_flight = 0;
    int max_in_flight = 0;

    http::Application app() {
        http::Application a;
        a.get("/", [this](http::Request& r) -> Coro<http::Response> {
            ++calls;
            client_ports.insert(r.remote().port());
            co_return http::Response::text("hello");
        });
        a.route("*", "/echo", [this](http::Request& r) -> Coro<http::Response> {
            ++calls;
            std::string body = co_await r.read();
            std::string out = r.method() + " " + r.raw_path() + "?" + r.query_string() + "\n" +
                              std::string(r.headers().get("Content-Type", "-")) + "\n" + body;
            co_return http::Response::text(std::move(out));
        });
        a.post("/upload", [](http::Request& r) -> Coro<http::Response> {
            std::string body = co_await r.read();
            co_return http::Response::text("te=" + std::string(r.headers().get("Transfer-Encoding", "-")) +
                                           " cl=" + std::string(r.headers().get("Content-Length", "-")) + " " +
                                           std::to_string(body.size()) + " " + body.substr(0, 16));
        });
        a.get("/login", [](http::Request&) -> Coro<http::Response> {
            http::Response resp = http::Response::text("in");
            resp.headers().add("Set-Cookie", "session=abc; Path=/; HttpOnly");
            resp.headers().add("Set-Cookie", "theme=dark; Path=/prefs");
            co_return resp;
        });
        a.get("/cookies", [](http::Request& r) -> Coro<http::Response> {
            co_return http::Response::text(std::string(r.headers().get("Cookie", "-")));
        });
        a.get("/hop", [](http::Request&) -> Coro<http::Response> {
            http::Response resp(302);
            resp.headers().set("Location", "/cookies");
            resp.headers().add("Set-Cookie", "hop=1");
            co_return resp;
        });
        a.get("/headers", [](http::Request& r) -> Coro<http::Response> {
            std::string out;
            for (auto [name, value] : r.headers()) out += std::string(name) + ": " + std::string(value) + "\n";
            co_return http::Response::text(std::move(out));
        });
        a.get("/slow", [this](http::Request&) -> Coro<http::Response> {
            ++in_flight;
            max_in_flight = std::max(max_in_flight, in_flight);
            co_await sleep(0.02);
            --in_flight;
            co_return http::Response::text("slow");
        });
        a.get("/stream", [](http::Request& r) -> Coro<http::Response> {
            http::Response resp(200);
            co_await resp.prepare(r);
            for (int i = 0; i < 5; ++i) co_await resp.write("part " + std::to_string(i) + "\n");
            co_return resp;
        });
        a.get("/big",
              [](http::Request&) -> Coro<http::Response> { co_return http::Response::text(big_text(3'000'000)); });
        a.get("/gzip/{kind}", [](http::Request& r) -> Coro<http::Response> {
            const std::string& kind = r.match_info("kind");
            int bits = kind == "gzip" ? 16 + 15 : kind == "deflate" ? 15 : -15;
            http::Response resp(200, compress(big_text(200'000), bits), "text/plain");
            resp.headers().set("Content-Encoding", kind == "gzip" ? "gzip" : "deflate");
            co_return resp;
        });
        a.get("/status/{code}", [](http::Request& r) -> Coro<http::Response> {
            co_return http::Response(std::stoi(r.match_info("code")), "status body", "text/plain");
        });
        a.route("*", "/redirect/{code}/{n}", [](http::Request& r) -> Coro<http::Response> {
            int n = std::stoi(r.match_info("n"));
            http::Response resp(std::stoi(r.match_info("code")));
            resp.headers().set("Location", n > 1 ? "/redirect/" + r.match_info("code") + "/" + std::to_string(n - 1)
                                                 : std::string("/echo"));
            co_return resp;
        });
        a.get("/loop", [](http::Request&) -> Coro<http::Response> {
            http::Response resp(302);
            resp.headers().set("Location", "/loop");
            co_return resp;
        });
        a.get("/json", [](http::Request&) -> Coro<http::Response> {
            co_return http::json_response(nlohmann::json{{"name", "tulip"}, {"n", 3}});
        });
        a.get("/latin1", [](http::Request&) -> Coro<http::Response> {
            co_return http::Response(200, "caf\xe9", "text/plain; charset=ISO-8859-1");
        });
        a.get("/charset/{cs}", [](http::Request& r) -> Coro<http::Response> {
            // "naïve" in each: Windows-1252, UTF-16LE, and bytes UTF-8 cannot have.
            const std::string& cs = r.match_info("cs");
            std::string body = cs == "windows-1252" ? std::string("na\xefve")
                               : cs == "utf-16le"   ? std::string("n\0a\0\xef\0v\0e\0", 10)
                                                    : std::string("na\xefve");
            co_return http::Response(200, body, "text/plain; charset=\"" + cs + "\"");
        });
        return a;
    }

    static Coro<http::Server> serve(http::Application a) {
        http::ServerOptions o;
        co_return co_await http::start_server(std::move(a), "127.0.0.1", 0, std::move(o));
    }
    static std::uint16_t port_of_http(const http::Server& s) { return s.addresses().at(0).port(); }
    static std::string base(const http::Server& s) { return "http://127.0.0.1:" + std::to_string(port_of_http(s)); }
    static http::ClientSession session_for(const http::Server& s) {
        http::ClientSessionOptions o;
        o.base_url = base(s);
        return http::ClientSession(std::move(o));
    }
};

// An https server (the test PKI's localhost certificate) whose /who says
// whether the request came over TLS and its Host.
Coro<http::Server> https_who_server() {
    ssl::SSLContext ctx(ssl::PROTOCOL_TLS_SERVER);
    ctx.load_cert_chain(test::test_pki().server.cert, test::test_pki().server.key);
    http::ServerOptions so;
    so.net.ssl = ctx;
    http::Application a;
    a.get("/who", [](http::Request& r) -> Coro<http::Response> {
        co_return http::Response::text(std::string(r.secure() ? "secure " : "plain ") + std::string(r.host()));
    });
    co_return co_await http::start_server(std::move(a), "127.0.0.1", 0, std::move(so));
}

// A client context that trusts the test CA.
ssl::SSLContext trusting_test_ca() {
    ssl::SSLContext ca(ssl::PROTOCOL_TLS_CLIENT);
    ca.load_verify_locations(test::test_pki().ca.cert);
    return ca;
}

// A raw server that answers each connection with a script: read one request
// head, send `reply`, then close (or keep reading when keep_open).
struct Scripted {
    std::vector<std::string> replies;  // per connection, in order; the last repeats
    bool close_after = true;
    int connections = 0;
    std::vector<std::string> requests;
};

Coro<Server> scripted_server(Scripted& sc) {
    auto cb = [&sc](StreamReader r, StreamWriter w) -> Coro<void> {
        std::size_t i = static_cast<std::size_t>(sc.connections++);
        const std::string& reply = sc.replies.at(std::min(i, sc.replies.size() - 1));
        try {
            for (;;) {
                std::string head = co_await r.readuntil("\r\n\r\n");
                sc.requests.push_back(head);
                if (reply == "<close>") break;
                if (reply == "<stall>") {  // says nothing until the client gives up
                    while (!(co_await r.read(4096)).empty()) {}
                    break;
                }
                w.write(reply);
                co_await w.drain();
                if (sc.close_after) break;
            }
        } catch (const std::exception&) {}
        w.close();
    };
    co_return co_await start_server(cb, "127.0.0.1", 0);
}

// The end of a test against a scripted server: the session's connections
// all closed (none leaked to the pool), the session and the server closed.
Coro<void> all_closed(http::ClientSession& session, Server& server) {
    co_await test::eventually([&] { return session.connection_count() == 0; });
    co_await session.close();
    co_await test::close_and_wait(server);
}

std::string url_of(const Server& s, const std::string& path = "/") {
    return "http://127.0.0.1:" + std::to_string(port_of(s)) + path;
}

// ---- requests, bodies and the pool ----------------------------------------------------------

TEST_F(HttpClientTest, GetsReuseOneKeepAliveConnection) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(app());
        http::ClientSession session = session_for(server);
        for (int i = 0; i < 5; ++i) {
            http::ClientResponse r = co_await session.get("/");
            EXPECT_EQ(r.status(), 200);
            EXPECT_EQ(r.reason(), "OK");
            EXPECT_EQ(r.content_type(), "text/plain");
            EXPECT_EQ(r.charset(), "utf-8");
            EXPECT_EQ(co_await r.read(), "hello");
            EXPECT_EQ(co_await r.read(), "hello");  // kept
            EXPECT_TRUE(r.at_eof());
        }
        EXPECT_EQ(calls, 5);
        EXPECT_EQ(client_ports.size(), 1u);
        EXPECT_EQ(session.connections_made(), 1u);
        EXPECT_EQ(session.idle_count(), 1u);
        co_await session.close();
        EXPECT_EQ(session.connection_count(), 0u);
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpClientTest, BodiesGoOutWithTheirLengthAndContentType) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(app());
        http::ClientSession session = session_for(server);
        http::RequestOptions data;
        data.data = "raw bytes";
        data.headers.set("Content-Type", "application/octet-stream");
        http::ClientResponse r = co_await session.post("/echo", std::move(data));
        EXPECT_EQ(co_await r.text(), "POST /echo?\napplication/octet-stream\nraw bytes");

        http::RequestOptions form;
        form.form = http::Query{{"a", "1"}, {"b", "x y&z"}};
        r = co_await session.put("/echo", std::move(form));
        EXPECT_EQ(co_await r.text(), "PUT /echo?\napplication/x-www-form-urlencoded\na=1&b=x+y%26z");

        http::RequestOptions json;
        http::set_json(json, nlohmann::json{{"k", "v"}});
        r = co_await session.patch("/echo", std::move(json));
        EXPECT_EQ(co_await r.text(), "PATCH /echo?\napplication/json\n{\"k\":\"v\"}");

        http::RequestOptions params;
        params.params = http::Query{{"q", "a b"}, {"n", "1"}};
        r = co_await session.get("/echo?x=0", std::move(params));
        EXPECT_EQ(co_await r.text(), "GET /echo?x=0&q=a+b&n=1\n-\n");

        r = co_await session.delete_("/echo");
        EXPECT_EQ(co_await r.text(), "DELETE /echo?\n-\n");

        http::RequestOptions both;
        both.data = "x";
        both.form = http::Query{{"a", "b"}};
        bool refused = false;
        try {
            (void)co_await session.post("/echo", std::move(both));
        } catch (const std::invalid_argument&) {
            refused = true;
        }
        EXPECT_TRUE(refused);
        EXPECT_EQ(session.connections_made(), 1u);
        co_await session.close();
        co_await server.shutdown(1.0);
    })());
}

AsyncGenerator<std::string> parts(std::vector<std::string> v) {
    for (auto& p : v) {
        co_await sleep(0);
        co_yield std::move(p);
    }
}

TEST_F(HttpClientTest, StreamedAndFileBodiesAreSentAsTheyAreRead) {
    char name[] = "/tmp/tulip_upload_XXXXXX";
    int fd = ::mkstemp(name);
    ASSERT_GE(fd, 0);
    ::close(fd);
    const std::string path = name;
    std::string file = big_text(900'000);
    { std::ofstream(path, std::ios::binary) << file; }
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(app());
        http::ClientSession session = session_for(server);
        http::RequestOptions chunked;
        chunked.body_stream = parts({"first ", "", "second ", "third"});
        http::ClientResponse r = co_await session.post("/upload", std::move(chunked));
        EXPECT_EQ(co_await r.read(), "te=chunked cl=- 18 first second thi");

        http::RequestOptions sized;
        sized.body_stream = parts({"12345", "678"});
        sized.content_length = 8;
        r = co_await session.post("/upload", std::move(sized));
        EXPECT_EQ(co_await r.read(), "te=- cl=8 8 12345678");

        http::RequestOptions from_file;
        from_file.body_file = path;
        r = co_await session.post("/upload", std::move(from_file));
        EXPECT_EQ(co_await r.read(), "te=- cl=900000 900000 " + file.substr(0, 16));
        EXPECT_EQ(session.connections_made(), 1u);

        http::RequestOptions wrong;
        wrong.body_stream = parts({"12345"});
        wrong.content_length = 8;
        std::string what;
        try {
            (void)co_await session.post("/upload", std::move(wrong));
        } catch (const std::invalid_argument& e) {
            what = e.what();
        }
        EXPECT_NE(what.find("content_length"), std::string::npos) << what;

        http::RequestOptions missing;
        missing.body_file = path + ".missing";
        what.clear();
        try {
            (void)co_await session.post("/upload", std::move(missing));
        } catch (const std::system_error& e) {
            what = e.what();
        }
        EXPECT_NE(what.find(".missing"), std::string::npos) << what;
        co_await session.close();
        co_await server.shutdown(1.0);
    })());
    std::remove(path.c_str());
}

TEST_F(HttpClientTest, MultipartBodiesCarryFieldsAndFiles) {
    char name[] = "/tmp/tulip_form_XXXXXX";
    int fd = ::mkstemp(name);
    ASSERT_GE(fd, 0);
    ::close(fd);
    const std::string path = name;
    const std::string content = big_text(200'000);
    { std::ofstream(path, std::ios::binary) << content; }
    run_io(([&]() -> Coro<void> {
        http::Application a;
        a.post("/raw", [](http::Request& r) -> Coro<http::Response> {
            std::string body = co_await r.read();
            co_return http::Response::text(std::string(r.headers().get("Content-Type", "-")) + "\n" +
                                           std::string(r.headers().get("Content-Length", "-")) + "\n" + body);
        });
        http::ServerOptions so;
        http::Server server = co_await http::start_server(std::move(a), "127.0.0.1", 0, std::move(so));
        http::ClientSession session = session_for(server);

        http::FormData fields;
        fields.add_field("title", "holiday");
        fields.add_field("note\"x", "a\r\nb", "text/plain");
        const std::string b = fields.boundary();
        EXPECT_EQ(b.size(), 32u);
        http::RequestOptions ro;
        ro.multipart = fields;
        http::ClientResponse r = co_await session.post("/raw", std::move(ro));
        std::string want_body = "--" + b + "\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nholiday\r\n" +
                                "--" + b + "\r\nContent-Disposition: form-data; name=\"note%22x\"\r\n" +
                                "Content-Type: text/plain\r\n\r\na\r\nb\r\n--" + b + "--\r\n";
        EXPECT_EQ(co_await r.read(),
                  "multipart/form-data; boundary=" + b + "\n" + std::to_string(want_body.size()) + "\n" + want_body);
        EXPECT_EQ(fields.content_length(), want_body.size());

        http::FormData with_file;
        with_file.add_field("title", "tulips");
        with_file.add_file("photo", path);
        const std::string b2 = with_file.boundary();
        const std::uint64_t length = with_file.content_length();
        http::RequestOptions ro2;
        ro2.multipart = std::move(with_file);
        r = co_await session.post("/raw", std::move(ro2));
        std::string got = co_await r.read();
        const std::string file_head = "--" + b2 + "\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"" +
                                      path.substr(5) + "\"\r\nContent-Type: application/octet-stream\r\n\r\n";
        EXPECT_NE(got.find("\n" + std::to_string(length) + "\n"), std::string::npos);
        auto at = got.find(file_head);
        CO_ASSERT(at != std::string::npos);
        EXPECT_TRUE(got.compare(at + file_head.size(), content.size(), content) == 0);
        EXPECT_TRUE(got.ends_with("\r\n--" + b2 + "--\r\n"));

        http::FormData missing;
        missing.add_file("f", path + ".missing");
        http::RequestOptions ro3;
        ro3.multipart = std::move(missing);
        bool refused = false;
        try {
            (void)co_await session.post("/raw", std::move(ro3));
        } catch (const std::system_error&) {
            refused = true;
        }
        EXPECT_TRUE(refused);
        co_await session.close();
        co_await server.shutdown(1.0);
    })());
    std::remove(path.c_str());
}

TEST_F(HttpClientTest, AServerThatAnswersBeforeTheUploadEndsStopsIt) {
    run_io(([&]() -> Coro<void> {
        http::ServerOptions so;
        so.limits.max_body = 1000;
        http::Server server = co_await http::start_server(app(), "127.0.0.1", 0, std::move(so));
        http::ClientSession session = session_for(server);
        std::vector<std::string> many(200, std::string(10'000, 'u'));
        http::RequestOptions ro;
        ro.body_stream = parts(std::move(many));
        http::ClientResponse r = co_await session.post("/upload", std::move(ro));
        EXPECT_EQ(r.status(), 413);
        (void)co_await r.read();
        co_await test::eventually([&] { return session.connection_count() == 0; });  // not reused
        co_await session.close();
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpClientTest, HeadersMergeSessionDefaultsRequestOnesAndOurs) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(app());
        http::ClientSessionOptions o;
        o.base_url = base(server);
        o.headers.set("X-Session", "s");
        o.headers.set("X-Both", "session");
        o.user_agent = "tester/1";
        http::ClientSession session(std::move(o));
        http::RequestOptions ro;
        ro.headers.add("X-Both", "request");
        http::ClientResponse r = co_await session.get("/headers", std::move(ro));
        std::string h = co_await r.text();
        EXPECT_NE(h.find("Host: 127.0.0.1:" + std::to_string(port_of_http(server))), std::string::npos) << h;
        EXPECT_NE(h.find("User-Agent: tester/1\n"), std::string::npos) << h;
        EXPECT_NE(h.find("Accept-Encoding: gzip, deflate\n"), std::string::npos) << h;
        EXPECT_NE(h.find("X-Session: s\n"), std::string::npos) << h;
        EXPECT_NE(h.find("X-Both: request\n"), std::string::npos) << h;
        EXPECT_EQ(h.find("X-Both: session"), std::string::npos) << h;
        EXPECT_EQ(h.find("Content-Length"), std::string::npos) << h;  // a GET without body has none

        r = co_await session.get("http://user:pa%20ss@127.0.0.1:" + std::to_string(port_of_http(server)) + "/headers");
        h = co_await r.text();
        EXPECT_NE(h.find("Authorization: Basic dXNlcjpwYSBzcw==\n"), std::string::npos) << h;  // user:pa ss
        co_await session.close();
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpClientTest, CookiesSetByResponsesGoBackWithLaterRequests) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(app());
        http::ClientSession session = session_for(server);
        http::ClientResponse r = co_await session.get("/cookies");
        EXPECT_EQ(co_await r.read(), "-");
        r = co_await session.get("/login");
        EXPECT_EQ(co_await r.read(), "in");
        EXPECT_EQ(session.cookie_jar().size(), 2u);
        r = co_await session.get("/cookies");
        EXPECT_EQ(co_await r.read(), "session=abc");  // theme is for /prefs only
        http::RequestOptions own;
        own.headers.set("Cookie", "mine=1");
        r = co_await session.get("/cookies", std::move(own));
        EXPECT_EQ(co_await r.read(), "mine=1; session=abc");
        // A redirect's Set-Cookie counts for the request it leads to.
        r = co_await session.get("/hop");
        EXPECT_EQ(co_await r.read(), "session=abc; hop=1");
        co_await session.close();

        http::ClientSessionOptions o;
        o.base_url = base(server);
        o.use_cookie_jar = false;
        http::ClientSession jarless(std::move(o));
        r = co_await jarless.get("/login");
        (void)co_await r.read();
        r = co_await jarless.get("/cookies");
        EXPECT_EQ(co_await r.read(), "-");
        EXPECT_EQ(jarless.cookie_jar().size(), 0u);
        co_await jarless.close();
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpClientTest, StreamedBodiesAreReadInParts) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(app());
        http::ClientSession session = session_for(server);
        http::ClientResponse r = co_await session.get("/stream");
        EXPECT_EQ(r.headers().get("Transfer-Encoding", ""), "chunked");
        EXPECT_EQ(co_await r.readline(), "part 0\n");
        EXPECT_EQ(co_await r.read_some(3), "par");
        std::string rest;
        auto parts = r.iter_chunked(4);
        while (auto p = co_await parts.next()) {
            EXPECT_LE(p->size(), 4u);
            rest += *p;
        }
        EXPECT_EQ(rest, "t 1\npart 2\npart 3\npart 4\n");
        EXPECT_TRUE(r.at_eof());
        EXPECT_EQ(co_await r.read_some(), "");
        EXPECT_EQ(session.idle_count(), 1u);  // read to its end: back in the pool

        r = co_await session.get("/big");
        std::string big = co_await r.read();
        EXPECT_EQ(big.size(), 3'000'000u);
        EXPECT_EQ(big, big_text(3'000'000));
        EXPECT_EQ(session.connections_made(), 1u);
        co_await session.close();
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpClientTest, GzipAndDeflateBodiesAreDecoded) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(app());
        http::ClientSession session = session_for(server);
        for (const char* kind : {"gzip", "deflate", "rawdeflate"}) {
            http::ClientResponse r = co_await session.get(std::string("/gzip/") + kind);
            std::string body = co_await r.read();
            EXPECT_EQ(body.size(), 200'000u) << kind;
            EXPECT_TRUE(body == big_text(200'000)) << kind;
        }
        http::ClientSessionOptions raw;
        raw.base_url = base(server);
        raw.auto_decompress = false;
        http::ClientSession plain(std::move(raw));
        http::ClientResponse r = co_await plain.get("/gzip/gzip");
        EXPECT_EQ(co_await r.read(), compress(big_text(200'000), 16 + 15));
        co_await plain.close();
        co_await session.close();
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpClientTest, CorruptCompressedBodyIsAPayloadError) {
    run_io(([&]() -> Coro<void> {
        std::string gz = compress("some text that compresses", 16 + 15);
        gz[gz.size() / 2] = static_cast<char>(gz[gz.size() / 2] ^ 0x55);
        Scripted sc;
        sc.replies = {"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + std::to_string(gz.size()) +
                      "\r\n\r\n" + gz};
        Server server = co_await scripted_server(sc);
        http::ClientSession session;
        http::ClientResponse r = co_await session.get(url_of(server));
        bool payload_error = false;
        try {
            (void)co_await r.read();
        } catch (const http::ClientPayloadError&) {
            payload_error = true;
        }
        EXPECT_TRUE(payload_error);
        co_await all_closed(session, server);
    })());
}

TEST_F(HttpClientTest, HeadAndBodilessStatusesHaveNoBodyAndKeepTheConnection) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(app());
        http::ClientSession session = session_for(server);
        http::ClientResponse r = co_await session.head("/big");
        EXPECT_EQ(r.status(), 200);
        EXPECT_EQ(r.content_length(), std::optional<std::uint64_t>(3'000'000));
        EXPECT_EQ(co_await r.read(), "");
        r = co_await session.get("/status/204");
        EXPECT_EQ(r.status(), 204);
        EXPECT_EQ(co_await r.read(), "");
        r = co_await session.get("/");
        EXPECT_EQ(co_await r.read(), "hello");
        EXPECT_EQ(session.connections_made(), 1u);
        co_await session.close();
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpClientTest, JsonAndLatin1Text) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(app());
        http::ClientSession session = session_for(server);
        http::ClientResponse r = co_await session.get("/json");
        nlohmann::json j = co_await http::read_json(r);
        EXPECT_EQ(j["name"], "tulip");
        EXPECT_EQ(j["n"], 3);
        r = co_await session.get("/latin1");
        EXPECT_EQ(r.charset(), "iso-8859-1");
        EXPECT_EQ(co_await r.text(), "caf\xc3\xa9");
        r = co_await session.get("/charset/windows-1252");
        EXPECT_EQ(co_await r.text(), "na\xc3\xafve");
        r = co_await session.get("/charset/utf-16le");
        EXPECT_EQ(co_await r.text(), "na\xc3\xafve");
        for (const char* bad : {"utf-8-but-not", "utf-32"}) {  // unknown; bytes that are not UTF-32
            r = co_await session.get(std::string("/charset/") + bad);
            bool refused = false;
            try {
                (void)co_await r.text();
            } catch (const http::ClientPayloadError&) {
                refused = true;
            }
            EXPECT_TRUE(refused) << bad;
        }
        r = co_await session.get("/");
        bool bad_json = false;
        try {
            (void)co_await http::read_json(r);
        } catch (const http::ClientPayloadError&) {
            bad_json = true;
        }
        EXPECT_TRUE(bad_json);
        co_await session.close();
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpClientTest, RaiseForStatusNamesTheStatusAndUrl) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(app());
        http::ClientSession session = session_for(server);
        http::ClientResponse r = co_await session.get("/status/404");
        EXPECT_FALSE(r.ok());
        int status = 0;
        std::string what;
        try {
            r.raise_for_status();
        } catch (const http::ClientResponseError& e) {
            status = e.status();
            what = e.what();
        }
        EXPECT_EQ(status, 404);
        EXPECT_NE(what.find("/status/404"), std::string::npos) << what;
        http::RequestOptions ro;
        ro.raise_for_status = true;
        status = 0;
        try {
            (void)co_await session.get("/status/503", std::move(ro));
        } catch (const http::ClientResponseError& e) {
            status = e.status();
        }
        EXPECT_EQ(status, 503);
        co_await session.close();
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpClientTest, ThePoolKeepsToItsLimit) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(app());
        http::ClientSessionOptions o;
        o.base_url = base(server);
        o.limit = 2;
        http::ClientSession session(std::move(o));
        auto one = [&]() -> Coro<std::string> {
            http::ClientResponse r = co_await session.get("/slow");
            co_return co_await r.read();
        };
        std::vector<Task<std::string>> tasks;
        for (int i = 0; i < 8; ++i) tasks.push_back(create_task(one()));
        for (auto& t : tasks) EXPECT_EQ(co_await t, "slow");
        EXPECT_EQ(max_in_flight, 2);
        EXPECT_EQ(session.connections_made(), 2u);
        EXPECT_LE(session.connection_count(), 2u);
        co_await session.close();
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpClientTest, PerHostLimitAndWaitingForAConnectionTimesOut) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(app());
        http::ClientSessionOptions o;
        o.base_url = base(server);
        o.limit_per_host = 1;
        o.timeout.connect = 0.05;
        http::ClientSession session(std::move(o));
        http::ClientResponse held = co_await session.get("/stream");  // body unread: holds the connection
        bool timed_out = false;
        try {
            (void)co_await session.get("/");
        } catch (const TimeoutError&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        EXPECT_EQ(co_await held.read(), "part 0\npart 1\npart 2\npart 3\npart 4\n");
        http::ClientResponse r = co_await session.get("/");  // the connection is free again
        EXPECT_EQ(co_await r.read(), "hello");
        EXPECT_EQ(session.connections_made(), 1u);
        co_await session.close();
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpClientTest, AResponseDroppedHalfReadClosesItsConnection) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(app());
        http::ClientSession session = session_for(server);
        {
            http::ClientResponse r = co_await session.get("/big");
            EXPECT_FALSE((co_await r.read_some(10)).empty());
        }
        co_await test::eventually([&] { return session.connection_count() == 0; });
        EXPECT_EQ(session.idle_count(), 0u);
        http::ClientResponse r = co_await session.get("/");
        EXPECT_EQ(co_await r.read(), "hello");
        EXPECT_EQ(session.connections_made(), 2u);
        co_await session.close();
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpClientTest, IdleConnectionsExpire) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(app());
        http::ClientSessionOptions o;
        o.base_url = base(server);
        o.keepalive_timeout = 0.05;
        http::ClientSession session(std::move(o));
        http::ClientResponse r = co_await session.get("/");
        EXPECT_EQ(co_await r.read(), "hello");
        EXPECT_EQ(session.idle_count(), 1u);
        co_await test::eventually([&] { return session.connection_count() == 0; });
        EXPECT_EQ(session.idle_count(), 0u);
        co_await session.close();
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpClientTest, AClosedSessionRefusesRequests) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(app());
        http::ClientSession session = session_for(server);
        http::ClientResponse r = co_await session.get("/");
        EXPECT_EQ(co_await r.read(), "hello");
        co_await session.close();
        EXPECT_TRUE(session.closed());
        EXPECT_EQ(session.connection_count(), 0u);
        bool refused = false;
        try {
            (void)co_await session.get("/");
        } catch (const http::ClientError&) {
            refused = true;
        }
        EXPECT_TRUE(refused);
        co_await server.shutdown(1.0);
    })());
}

// ---- redirects ---------------------------------------------------------------------------------

TEST_F(HttpClientTest, RedirectsAreFollowedWithHistory) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(app());
        http::ClientSession session = session_for(server);
        http::ClientResponse r = co_await session.get("/redirect/302/3");
        EXPECT_EQ(r.status(), 200);
        EXPECT_EQ(r.url().path, "/echo");
        CO_ASSERT(r.history().size() == 3u);
        EXPECT_EQ(r.history()[0].status(), 302);
        EXPECT_EQ(r.history()[0].url().path, "/redirect/302/3");
        EXPECT_EQ(r.history()[2].url().path, "/redirect/302/1");
        EXPECT_EQ(co_await r.read(), "GET /echo?\n-\n");
        EXPECT_EQ(session.connections_made(), 1u);  // the redirects' bodies were read: one connection

        http::RequestOptions no;
        no.allow_redirects = false;
        r = co_await session.get("/redirect/301/1", std::move(no));
        EXPECT_EQ(r.status(), 301);
        EXPECT_EQ(r.headers().get("Location", ""), "/echo");
        co_await session.close();
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpClientTest, RedirectsRewriteMethodsAsBrowsersDo) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(app());
        http::ClientSession session = session_for(server);
        struct Case {
            std::string method;
            int code;
            std::string expect;
        };
        std::vector<Case> cases = {
            {"POST", 301, "GET /echo?\n-\n"},
            {"POST", 302, "GET /echo?\n-\n"},
            {"POST", 303, "GET /echo?\n-\n"},
            {"PUT", 303, "GET /echo?\n-\n"},
            {"PUT", 302, "PUT /echo?\ntext/x-test\nbody"},
            {"POST", 307, "POST /echo?\ntext/x-test\nbody"},
            {"POST", 308, "POST /echo?\ntext/x-test\nbody"},
        };
        for (const Case& c : cases) {
            http::RequestOptions ro;
            ro.data = "body";
            ro.headers.set("Content-Type", "text/x-test");
            http::ClientResponse r =
                co_await session.request(c.method, "/redirect/" + std::to_string(c.code) + "/1", std::move(ro));
            EXPECT_EQ(co_await r.read(), c.expect) << c.method << " " << c.code;
        }
        co_await session.close();
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpClientTest, TooManyRedirectsStops) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(app());
        http::ClientSessionOptions o;
        o.base_url = base(server);
        o.max_redirects = 4;
        http::ClientSession session(std::move(o));
        int status = 0;
        try {
            (void)co_await session.get("/loop");
        } catch (const http::TooManyRedirects& e) {
            status = e.status();
        }
        EXPECT_EQ(status, 302);
        co_await session.close();
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpClientTest, RedirectToAnotherOriginDropsAuthorization) {
    run_io(([&]() -> Coro<void> {
        http::Server target = co_await serve(app());
        Scripted sc;
        sc.replies = {"HTTP/1.1 302 Found\r\nLocation: " + base(target) + "/headers\r\nContent-Length: 0\r\n\r\n"};
        Server redirector = co_await scripted_server(sc);
        http::ClientSession session;
        http::RequestOptions ro;
        ro.headers.set("Authorization", "Bearer secret");
        ro.headers.set("X-Kept", "yes");
        http::ClientResponse r = co_await session.get(url_of(redirector), std::move(ro));
        std::string h = co_await r.text();
        EXPECT_NE(sc.requests.at(0).find("Authorization: Bearer secret"), std::string::npos);
        EXPECT_EQ(h.find("Authorization"), std::string::npos) << h;
        EXPECT_NE(h.find("X-Kept: yes"), std::string::npos) << h;
        co_await session.close();
        co_await test::close_and_wait(redirector);
        co_await target.shutdown(1.0);
    })());
}

// ---- servers that misbehave ---------------------------------------------------------------------

TEST_F(HttpClientTest, ABodyDelimitedByTheCloseIsReadToTheClose) {
    run_io(([&]() -> Coro<void> {
        Scripted sc;
        sc.replies = {"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the close"};
        Server server = co_await scripted_server(sc);
        http::ClientSession session;
        for (int i = 0; i < 2; ++i) {
            http::ClientResponse r = co_await session.get(url_of(server));
            EXPECT_EQ(r.version_minor(), 0);
            EXPECT_EQ(co_await r.read(), "until the close");
        }
        EXPECT_EQ(session.connections_made(), 2u);  // not reusable
        co_await all_closed(session, server);
    })());
}

TEST_F(HttpClientTest, ABodyCutShortIsAPayloadError) {
    run_io(([&]() -> Coro<void> {
        Scripted sc;
        sc.replies = {"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this",
                      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n"};
        Server server = co_await scripted_server(sc);
        http::ClientSession session;
        for (int i = 0; i < 2; ++i) {
            http::ClientResponse r = co_await session.get(url_of(server));
            bool payload_error = false;
            try {
                (void)co_await r.read();
            } catch (const http::ClientPayloadError&) {
                payload_error = true;
            }
            EXPECT_TRUE(payload_error) << i;
        }
        co_await all_closed(session, server);
    })());
}

TEST_F(HttpClientTest, AServerThatClosesWithoutAnsweringIsServerDisconnected) {
    run_io(([&]() -> Coro<void> {
        Scripted sc;
        sc.replies = {"<close>"};
        Server server = co_await scripted_server(sc);
        http::ClientSession session;
        bool disconnected = false;
        try {
            (void)co_await session.post(url_of(server), http::RequestOptions());
        } catch (const http::ServerDisconnectedError&) {
            disconnected = true;
        }
        EXPECT_TRUE(disconnected);
        EXPECT_EQ(sc.connections, 1);  // a POST is not retried
        co_await all_closed(session, server);
    })());
}

TEST_F(HttpClientTest, AStaleKeepAliveConnectionFailsOrIsRetriedForIdempotentMethodsWhenAsked) {
    run_io(([&]() -> Coro<void> {
        // Each connection answers one request, then reads the next and closes
        // without a word (a server's keep-alive timeout racing the request).
        int connections = 0;
        auto cb = [&](StreamReader r, StreamWriter w) -> Coro<void> {
            ++connections;
            try {
                (void)co_await r.readuntil("\r\n\r\n");
                w.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                co_await w.drain();
                (void)co_await r.readuntil("\r\n\r\n");
            } catch (const std::exception&) {}
            w.close();
        };
        Server server = co_await start_server(cb, "127.0.0.1", 0);
        {
            // By default nothing is sent twice: the caller sees the failure.
            http::ClientSession plain;
            http::ClientResponse r = co_await plain.get(url_of(server));
            EXPECT_EQ(co_await r.read(), "ok");
            bool disconnected = false;
            try {
                (void)co_await plain.get(url_of(server));
            } catch (const http::ServerDisconnectedError&) {
                disconnected = true;
            }
            EXPECT_TRUE(disconnected);
            EXPECT_EQ(connections, 1);
            co_await plain.close();
        }
        connections = 0;
        http::ClientSessionOptions o;
        o.retry_stale_connections = true;
        http::ClientSession session(std::move(o));
        http::ClientResponse r = co_await session.get(url_of(server));
        EXPECT_EQ(co_await r.read(), "ok");
        r = co_await session.get(url_of(server));  // stale: retried on a new connection
        EXPECT_EQ(co_await r.read(), "ok");
        EXPECT_EQ(connections, 2);
        EXPECT_EQ(session.connections_made(), 2u);
        // The second connection is stale now too; a POST may have had an
        // effect, so it is not sent again.
        bool disconnected = false;
        try {
            (void)co_await session.post(url_of(server), http::RequestOptions());
        } catch (const http::ServerDisconnectedError&) {
            disconnected = true;
        }
        EXPECT_TRUE(disconnected);
        EXPECT_EQ(connections, 2);
        co_await all_closed(session, server);
    })());
}

TEST_F(HttpClientTest, InterimResponsesAreSkipped) {
    run_io(([&]() -> Coro<void> {
        Scripted sc;
        sc.replies = {
            "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
            "HTTP/1.1 100 Continue\r\n\r\n"
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal"};
        Server server = co_await scripted_server(sc);
        http::ClientSession session;
        http::ClientResponse r = co_await session.get(url_of(server));
        EXPECT_EQ(r.status(), 200);
        EXPECT_FALSE(r.headers().contains("Link"));
        EXPECT_EQ(co_await r.read(), "final");
        co_await all_closed(session, server);
    })());
}

TEST_F(HttpClientTest, AMalformedResponseIsAResponseError) {
    run_io(([&]() -> Coro<void> {
        Scripted sc;
        sc.replies = {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
                      "NOT HTTP AT ALL\r\n\r\n"};
        Server server = co_await scripted_server(sc);
        http::ClientSession session;
        for (int i = 0; i < 2; ++i) {
            bool malformed = false;
            try {
                (void)co_await session.get(url_of(server));
            } catch (const http::ClientResponseError& e) {
                malformed = e.status() == 0;
            }
            EXPECT_TRUE(malformed) << i;
        }
        co_await all_closed(session, server);
    })());
}

TEST_F(HttpClientTest, AStallingServerTimesOut) {
    run_io(([&]() -> Coro<void> {
        Scripted sc;
        sc.replies = {"<stall>"};
        Server server = co_await scripted_server(sc);
        http::ClientSession session;
        for (int kind = 0; kind < 2; ++kind) {
            http::RequestOptions ro;
            http::ClientTimeout t;
            if (kind == 0)
                t.sock_read = 0.05;
            else
                t.total = 0.05;
            ro.timeout = t;
            bool timed_out = false;
            try {
                (void)co_await session.get(url_of(server), std::move(ro));
            } catch (const TimeoutError&) {
                timed_out = true;
            }
            EXPECT_TRUE(timed_out) << kind;
        }
        co_await all_closed(session, server);
    })());
}

TEST_F(HttpClientTest, ABodyThatStallsTimesOutOnSockRead) {
    run_io(([&]() -> Coro<void> {
        Scripted sc;
        sc.close_after = false;
        sc.replies = {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"};
        Server server = co_await scripted_server(sc);
        http::ClientSessionOptions o;
        o.timeout.sock_read = 0.05;
        http::ClientSession session(std::move(o));
        http::ClientResponse r = co_await session.get(url_of(server));
        EXPECT_EQ(co_await r.read_some(), "abc");
        bool timed_out = false;
        try {
            (void)co_await r.read_some();
        } catch (const TimeoutError&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        r.release();
        co_await all_closed(session, server);
    })());
}

TEST_F(HttpClientTest, SockReadCountsOnlyWhileWaitingNotWhileTheCallerIsBusy) {
    run_io(([&]() -> Coro<void> {
        auto cb = [](StreamReader r, StreamWriter w) -> Coro<void> {
            (void)co_await r.readuntil("\r\n\r\n");
            w.write("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n");
            co_await w.drain();
            co_await sleep(0.05);  // the first read waits for its bytes
            w.write("abc");
            co_await w.drain();
            co_await sleep(1.0);
            w.write("def");
            co_await w.drain();
            w.close();
        };
        Server server = co_await start_server(cb, "127.0.0.1", 0);
        http::ClientSessionOptions o;
        // Margins of 0.3 s or more either way, for a loaded machine.
        o.timeout.sock_read = 0.5;
        http::ClientSession session(std::move(o));
        http::ClientResponse r = co_await session.get(url_of(server));
        EXPECT_EQ(co_await r.read_some(), "abc");
        co_await sleep(0.8);                       // busy past sock_read, not waiting on the server
        EXPECT_EQ(co_await r.read_some(), "def");  // then waits ~0.2 s: within sock_read
        co_await all_closed(session, server);
    })());
}

TEST_F(HttpClientTest, CancellingARequestClosesItsConnection) {
    run_io(([&]() -> Coro<void> {
        Scripted sc;
        sc.replies = {"<stall>"};
        Server server = co_await scripted_server(sc);
        http::ClientSession session;
        auto t = create_task(session.get(url_of(server)));
        co_await test::eventually([&] { return sc.requests.size() == 1; });
        t.cancel();
        bool cancelled = false;
        try {
            (void)co_await t;
        } catch (const CancelledError&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        co_await all_closed(session, server);
    })());
}

TEST_F(HttpClientTest, HttpsVerifiesTheServerAgainstTheSessionsCa) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await https_who_server();
        const std::string port = std::to_string(server.addresses().at(0).port());

        http::ClientSessionOptions o;
        o.ssl = trusting_test_ca();
        http::ClientSession session(std::move(o));
        for (int i = 0; i < 3; ++i) {
            http::ClientResponse r = co_await session.get("https://localhost:" + port + "/who");
            EXPECT_EQ(co_await r.read(), "secure localhost:" + port);
        }
        EXPECT_EQ(session.connections_made(), 1u);
        co_await session.close();

        // The default context trusts the system's CAs, not the test's.
        http::ClientSession untrusting;
        std::string what;
        try {
            (void)co_await untrusting.get("https://localhost:" + port + "/who");
        } catch (const http::ClientConnectorError& e) {
            what = e.what();
        }
        EXPECT_NE(what.find("certificate"), std::string::npos) << what;
        EXPECT_EQ(untrusting.connection_count(), 0u);
        co_await untrusting.close();
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpClientTest, TornadoStyleFetchWithACallbackAFutureAndCoAwait) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve(app());
        const std::string root = base(server);
        http::AsyncHTTPClient client;

        std::optional<std::string> by_callback;
        std::exception_ptr callback_error;
        client.fetch(root + "/", [&](http::FetchResponse r, std::exception_ptr e) {
            by_callback = r.body;
            callback_error = e;
        });

        Task<http::FetchResponse> future = client.fetch(root + "/redirect/302/1");
        int done_calls = 0;
        future.add_done_callback([&](Task<http::FetchResponse>&) { ++done_calls; });

        http::FetchResponse awaited = co_await client.fetch(root + "/json");
        EXPECT_EQ(awaited.code, 200);
        EXPECT_EQ(awaited.body, R"({"n":3,"name":"tulip"})");
        EXPECT_GE(awaited.request_time, 0.0);

        http::FetchResponse f = co_await future;
        EXPECT_EQ(f.effective_url.path, "/echo");
        EXPECT_EQ(f.body, "GET /echo?\n-\n");
        co_await test::eventually([&] { return by_callback.has_value() && done_calls == 1; });
        EXPECT_EQ(*by_callback, "hello");
        EXPECT_FALSE(callback_error);

        int code = 0;
        try {
            (void)co_await client.fetch(root + "/status/404");
        } catch (const http::ClientResponseError& e) {
            code = e.status();
        }
        EXPECT_EQ(code, 404);
        std::exception_ptr refused;
        bool called = false;
        client.fetch("http://127.0.0.1:" + std::to_string(test::closed_address().port()) + "/",
                     [&](http::FetchResponse, std::exception_ptr e) {
                         refused = e;
                         called = true;
                     });
        co_await test::eventually([&] { return called; });
        EXPECT_TRUE(refused);
        co_await client.close();
        co_await server.shutdown(1.0);
    })());
}

// An HTTP proxy: CONNECT tunnels (checked end to end by TLS inside), and
// absolute-form requests, which it answers itself with their request line.
struct Proxy {
    int connections = 0;
    int tunnels = 0;
    std::vector<std::string> heads;
    std::string require_auth;  // "Basic ..." or "" for none
};

Coro<void> pump(StreamReader from, StreamWriter to) {
    try {
        for (;;) {
            std::string b = co_await from.read(65536);
            if (b.empty()) break;
            to.write(b);
            co_await to.drain();
        }
    } catch (const std::exception&) {}
    to.close();
}

Coro<Server> proxy_server(Proxy& p) {
    auto cb = [&p](StreamReader r, StreamWriter w) -> Coro<void> {
        ++p.connections;
        try {
            for (;;) {
                std::string head = co_await r.readuntil("\r\n\r\n");
                p.heads.push_back(head);
                if (!p.require_auth.empty() &&
                    head.find("Proxy-Authorization: " + p.require_auth + "\r\n") == std::string::npos) {
                    w.write("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n");
                    co_await w.drain();
                    continue;
                }
                if (head.starts_with("CONNECT ")) {
                    ++p.tunnels;
                    std::string target = head.substr(8, head.find(' ', 8) - 8);
                    auto colon = target.rfind(':');
                    auto port = static_cast<std::uint16_t>(std::stoi(target.substr(colon + 1)));
                    auto [tr, tw] = co_await open_connection(target.substr(0, colon), port);
                    w.write("HTTP/1.1 200 Connection established\r\n\r\n");
                    co_await w.drain();
                    Task<void> up = create_task(pump(r, tw));
                    Task<void> down = create_task(pump(tr, w));
                    co_await up;
                    co_await down;
                    co_return;
                }
                std::string body = "proxied " + head.substr(0, head.find("\r\n"));
                w.write("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
                co_await w.drain();
            }
        } catch (const std::exception&) {}
        w.close();
    };
    co_return co_await start_server(cb, "127.0.0.1", 0);
}

TEST_F(HttpClientTest, PlainRequestsGoToTheProxyInAbsoluteForm) {
    run_io(([&]() -> Coro<void> {
        Proxy p;
        Server proxy = co_await proxy_server(p);
        http::ClientSessionOptions o;
        o.proxy = "http://agent:s%20cret@127.0.0.1:" + std::to_string(port_of(proxy));
        http::ClientSession session(std::move(o));
        http::ClientResponse r = co_await session.get("http://example.test:8080/path?q=1");
        EXPECT_EQ(co_await r.read(), "proxied GET http://example.test:8080/path?q=1 HTTP/1.1");
        r = co_await session.get("http://other.test/");
        EXPECT_EQ(co_await r.read(), "proxied GET http://other.test/ HTTP/1.1");
        EXPECT_EQ(p.connections, 1);  // one kept-alive connection to the proxy serves every origin
        CO_ASSERT(p.heads.size() == 2u);
        EXPECT_NE(p.heads[0].find("Host: example.test:8080\r\n"), std::string::npos) << p.heads[0];
        EXPECT_NE(p.heads[0].find("Proxy-Authorization: Basic YWdlbnQ6cyBjcmV0\r\n"), std::string::npos)
            << p.heads[0];  // agent:s cret
        co_await session.close();
        co_await test::close_and_wait(proxy);
    })());
}

TEST_F(HttpClientTest, HttpsGoesThroughAConnectTunnelWithTlsToTheServer) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await https_who_server();
        const std::string port = std::to_string(server.addresses().at(0).port());
        Proxy p;
        p.require_auth = "Basic dTpw";  // u:p
        Server proxy = co_await proxy_server(p);
        const std::string proxy_at = "127.0.0.1:" + std::to_string(port_of(proxy));

        http::ClientSessionOptions o;
        o.ssl = trusting_test_ca();
        o.proxy = "http://u:p@" + proxy_at;
        http::ClientSession session(std::move(o));
        for (int i = 0; i < 3; ++i) {
            http::ClientResponse r = co_await session.get("https://localhost:" + port + "/who");
            EXPECT_EQ(co_await r.read(), "secure localhost:" + port);
        }
        EXPECT_EQ(p.tunnels, 1);  // the tunnel is a pooled connection like any other
        CO_ASSERT(!p.heads.empty());
        EXPECT_TRUE(p.heads[0].starts_with("CONNECT localhost:" + port + " HTTP/1.1\r\n")) << p.heads[0];

        // Without the proxy's credentials: its 407 is raised.
        http::RequestOptions ro;
        ro.proxy = "http://" + proxy_at;
        int status = 0;
        try {
            (void)co_await session.get("https://127.0.0.1:" + port + "/who", std::move(ro));
        } catch (const http::ClientResponseError& e) {
            status = e.status();
        }
        EXPECT_EQ(status, 407);
        // proxy = "": straight to the server.
        http::RequestOptions direct;
        direct.proxy = "";
        http::ClientResponse r = co_await session.get("https://localhost:" + port + "/who", std::move(direct));
        EXPECT_EQ(co_await r.read(), "secure localhost:" + port);
        EXPECT_EQ(p.tunnels, 1);
        co_await session.close();
        co_await test::close_and_wait(proxy);
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpClientTest, NamesResolveThroughTheSessionsDnsServers) {
    run_io(([&]() -> Coro<void> {
        test::DnsServer dns;
        co_await dns.start();
        dns.dns.records["api.test"] = {"127.0.0.1", 60};
        http::Server server = co_await serve(app());
        http::ClientSessionOptions o;
        o.dns_servers = dns.servers();
        o.keepalive_timeout = 0;  // no pooling: each request connects, and resolves from the cache
        http::ClientSession session(std::move(o));
        const std::string url = "http://api.test:" + std::to_string(port_of_http(server));
        for (int i = 0; i < 3; ++i) {
            http::ClientResponse r = co_await session.get(url + "/headers");
            EXPECT_NE((co_await r.text()).find("Host: api.test:"), std::string::npos);
        }
        EXPECT_EQ(session.connections_made(), 3u);
        EXPECT_EQ(dns.dns.a_queries["api.test"], 1);  // the answer's TTL covers the rest
        co_await session.close();
        dns.close();
        co_await server.shutdown(1.0);
    })());
}

TEST_F(HttpClientTest, BadUrlsAndRefusedConnectionsGiveClearErrors) {
    run_io(([&]() -> Coro<void> {
        http::ClientSession session;
        for (const char* bad : {"ftp://host/x", "http://", "/relative-without-base", "http://h:99999/"}) {
            std::string what;
            try {
                (void)co_await session.get(bad);
            } catch (const http::InvalidURL& e) {
                what = e.what();
            }
            EXPECT_NE(what.find(bad), std::string::npos) << bad << ": " << what;
        }
        SocketAddress closed = test::closed_address();
        std::error_code code;
        try {
            (void)co_await session.get("http://127.0.0.1:" + std::to_string(closed.port()) + "/");
        } catch (const http::ClientConnectorError& e) {
            code = e.code();
        }
        EXPECT_EQ(code.value(), ECONNREFUSED);
        EXPECT_EQ(session.connection_count(), 0u);
        bool bad_method = false;
        try {
            (void)co_await session.request("GE T", "http://127.0.0.1:1/");
        } catch (const std::invalid_argument&) {
            bad_method = true;
        }
        EXPECT_TRUE(bad_method);
        co_await session.close();
    })());
}

}  // namespace
}  // namespace http_client_test
