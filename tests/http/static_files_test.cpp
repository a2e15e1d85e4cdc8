// tests/http/static_files_test.cpp — Response::file and add_static: the
// bytes, validators and 304s, ranges and 416, and what must not be served.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <tulip/http/date.hpp>
#include <tulip/http/server.hpp>

#include "../../src/http/file_ranges.hpp"
#include "http/http_client.hpp"
#include "support/coro_helpers.hpp"
#include "support/loop_test.hpp"
#include "support/net.hpp"

namespace http_static_files_test {

using namespace tulip;
using tulip::test::RawClient;
using tulip::test::Reply;
namespace hd = tulip::http::detail;

namespace {

// A temporary tree: root/www/{index.html, big.bin, sub/}, root/secret.txt,
// and root/www/escape -> ../secret.txt.
class StaticFilesTest : public test::IoLoopTest {
protected:
    void SetUp() override {
        IoLoopTest::SetUp();
        char tmpl[] = "/tmp/tulip-static-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        root = tmpl;
        www = root + "/www";
        ASSERT_EQ(::mkdir(www.c_str(), 0755), 0);
        ASSERT_EQ(::mkdir((www + "/sub").c_str(), 0755), 0);
        write(www + "/index.html", "<h1>hi</h1>");
        big = test::pattern(0, 3 * 1024 * 1024 + 17);
        write(www + "/big.bin", big);
        write(root + "/secret.txt", "secret");
        ASSERT_EQ(::symlink("../secret.txt", (www + "/escape").c_str()), 0);
    }
    void TearDown() override {
        std::string cmd = "rm -rf '" + root + "'";
        EXPECT_EQ(std::system(cmd.c_str()), 0);
        IoLoopTest::TearDown();
    }
    static void write(const std::string& path, const std::string& data) {
        std::ofstream f(path, std::ios::binary);
        f << data;
    }
    Coro<http::Server> serve() {
        http::Application app;
        app.add_static("/static", www);
        std::string file = www + "/index.html";
        app.get("/file", [file](http::Request&) -> Coro<http::Response> {
            http::Response r = http::Response::file(file);
            r.headers().set("Cache-Control", "max-age=60");
            co_return r;
        });
        app.get("/missing",
                [this](http::Request&) -> Coro<http::Response> { co_return http::Response::file(root + "/nope"); });
        http::ServerOptions o;
        co_return co_await http::start_server(std::move(app), "127.0.0.1", 0, std::move(o));
    }
    static std::string get(const std::string& path, const std::string& extra = "") {
        return "GET " + path + " HTTP/1.1\r\nHost: x\r\n" + extra + "\r\n";
    }

    std::string root, www, big;
};

TEST_F(StaticFilesTest, ServesAFileWithTypeValidatorsAndRanges) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve();
        RawClient c = co_await RawClient::connect(server.addresses().at(0));
        co_await c.send(get("/static/index.html"));
        Reply r = co_await c.reply();
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.body, "<h1>hi</h1>");
        EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
        EXPECT_EQ(r.header("accept-ranges"), "bytes");
        CO_ASSERT(r.header("etag").has_value());
        CO_ASSERT(r.header("last-modified").has_value());
        std::string etag = *r.header("etag");
        std::string lm = *r.header("last-modified");

        // The same connection goes on after a file.
        co_await c.send(get("/static/index.html", "If-None-Match: \"other\", " + etag + "\r\n"));
        Reply nm = co_await c.reply();
        EXPECT_EQ(nm.status, 304);
        EXPECT_EQ(nm.body, "");
        EXPECT_EQ(nm.header("etag"), etag);
        co_await c.send(get("/static/index.html", "If-None-Match: \"other\"\r\n"));
        EXPECT_EQ((co_await c.reply()).status, 200);
        co_await c.send(get("/static/index.html", "If-Modified-Since: " + lm + "\r\n"));
        EXPECT_EQ((co_await c.reply()).status, 304);
        co_await c.send(get("/static/index.html", "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"));
        EXPECT_EQ((co_await c.reply()).status, 200);

        co_await c.send(get("/static/index.html", "Range: bytes=4-7\r\n"));
        Reply part = co_await c.reply();
        EXPECT_EQ(part.status, 206);
        EXPECT_EQ(part.body, "hi</");
        EXPECT_EQ(part.header("content-range"), "bytes 4-7/11");
        co_await c.send(get("/static/index.html", "Range: bytes=-5\r\n"));
        EXPECT_EQ((co_await c.reply()).body, "</h1>");
        co_await c.send(get("/static/index.html", "Range: bytes=99-\r\n"));
        Reply bad = co_await c.reply();
        EXPECT_EQ(bad.status, 416);
        EXPECT_EQ(bad.header("content-range"), "bytes */11");
        co_await c.send(get("/static/index.html", "Range: bytes=0-1,3-4\r\n"));
        EXPECT_EQ((co_await c.reply()).status, 200);  // several ranges: the whole file
        co_await c.send(get("/static/index.html", "Range: bytes=0-1\r\nIf-Range: \"stale\"\r\n"));
        EXPECT_EQ((co_await c.reply()).status, 200);  // If-Range does not match: the whole file
        co_await c.send(get("/static/index.html", "Range: bytes=0-1\r\nIf-Range: " + etag + "\r\n"));
        EXPECT_EQ((co_await c.reply()).status, 206);

        co_await c.send("HEAD /static/index.html HTTP/1.1\r\nHost: x\r\n\r\n");
        Reply h = co_await c.reply(/*head=*/true);
        EXPECT_EQ(h.status, 200);
        EXPECT_EQ(h.header("content-length"), "11");
        co_await c.send(get("/file"));
        Reply f = co_await c.reply();
        EXPECT_EQ(f.body, "<h1>hi</h1>");
        EXPECT_EQ(f.header("cache-control"), "max-age=60");
        co_await server.shutdown(1.0);
    })());
}

TEST_F(StaticFilesTest, ABigFileArrivesWhole) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve();
        RawClient c = co_await RawClient::connect(server.addresses().at(0));
        co_await c.send(get("/static/big.bin"));
        Reply r = co_await c.reply();
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.header("content-type"), "application/octet-stream");
        EXPECT_TRUE(r.body == big) << "got " << r.body.size() << " bytes";
        co_await c.send(get("/static/big.bin", "Range: bytes=1000000-1000009\r\n"));
        Reply p = co_await c.reply();
        EXPECT_EQ(p.status, 206);
        EXPECT_EQ(p.body, big.substr(1000000, 10));
        co_await server.shutdown(1.0);
    })());
}

TEST_F(StaticFilesTest, NothingOutsideTheDirectoryNoListingsNoMissingFiles) {
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve();
        RawClient c = co_await RawClient::connect(server.addresses().at(0));
        for (const char* path : {"/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/..%2fsecret.txt",
                                 "/static/escape", "/static/nope.txt", "/static/", "/missing"}) {
            co_await c.send(get(path));
            Reply r = co_await c.reply();
            EXPECT_EQ(r.status, 404) << path;
            EXPECT_EQ(r.body.find("secret"), std::string::npos) << path;
        }
        co_await c.send(get("/static/sub"));
        EXPECT_EQ((co_await c.reply()).status, 403);
        co_await server.shutdown(1.0);
    })());
}

// add_static opens the file beneath its root (openat2's RESOLVE_BENEATH,
// with realpath for what that refuses): links that stay inside are followed,
// whichever form they take; links that lead out are 404s.
TEST_F(StaticFilesTest, SymlinksThatStayInsideAreFollowedOthersAre404) {
    ASSERT_EQ(::symlink("index.html", (www + "/rel").c_str()), 0);
    ASSERT_EQ(::symlink((www + "/index.html").c_str(), (www + "/abs").c_str()), 0);
    ASSERT_EQ(::symlink("../index.html", (www + "/sub/up").c_str()), 0);
    ASSERT_EQ(::symlink((root + "/secret.txt").c_str(), (www + "/abs_out").c_str()), 0);
    ASSERT_EQ(::mkdir((root + "/outdir").c_str(), 0755), 0);
    write(root + "/outdir/secret2.txt", "secret");
    ASSERT_EQ(::symlink("../outdir", (www + "/dir_out").c_str()), 0);
    std::string mid = test::pattern(7, 20 * 1024 + 3);  // past the read-and-writev size: sendfile(2)
    write(www + "/mid.bin", mid);
    run_io(([&]() -> Coro<void> {
        http::Server server = co_await serve();
        RawClient c = co_await RawClient::connect(server.addresses().at(0));
        for (const char* path : {"/static/rel", "/static/abs", "/static/sub/up"}) {
            co_await c.send(get(path));
            Reply r = co_await c.reply();
            EXPECT_EQ(r.status, 200) << path;
            EXPECT_EQ(r.body, "<h1>hi</h1>") << path;
        }
        for (const char* path : {"/static/abs_out", "/static/dir_out/secret2.txt"}) {
            co_await c.send(get(path));
            Reply r = co_await c.reply();
            EXPECT_EQ(r.status, 404) << path;
            EXPECT_EQ(r.body.find("secret"), std::string::npos) << path;
        }
        // Two pipelined: the second's head waits behind the first's file.
        std::string two = get("/static/mid.bin") + get("/static/mid.bin", "Range: bytes=20000-\r\n");
        co_await c.send(two);
        Reply whole = co_await c.reply();
        EXPECT_EQ(whole.status, 200);
        EXPECT_TRUE(whole.body == mid) << "got " << whole.body.size() << " bytes";
        Reply tail = co_await c.reply();
        EXPECT_EQ(tail.status, 206);
        EXPECT_EQ(tail.body, mid.substr(20000));
        co_await server.shutdown(1.0);
    })());
}

TEST(FileRanges, ParseRange) {
    hd::ByteRange r;
    EXPECT_EQ(hd::parse_range("bytes=0-0", 10, r), hd::RangeResult::satisfiable);
    EXPECT_EQ(r.first, 0u);
    EXPECT_EQ(r.last, 0u);
    EXPECT_EQ(hd::parse_range("bytes=5-100", 10, r), hd::RangeResult::satisfiable);
    EXPECT_EQ(r.last, 9u);  // clamped to the end
    EXPECT_EQ(hd::parse_range("bytes=-100", 10, r), hd::RangeResult::satisfiable);
    EXPECT_EQ(r.first, 0u);
    EXPECT_EQ(hd::parse_range("bytes=10-", 10, r), hd::RangeResult::unsatisfiable);
    EXPECT_EQ(hd::parse_range("bytes=-0", 10, r), hd::RangeResult::unsatisfiable);
    EXPECT_EQ(hd::parse_range("bytes=0-", 0, r), hd::RangeResult::unsatisfiable);
    for (const char* bad : {"bytes=5-4", "bytes=a-", "bytes=-", "items=0-1", "bytes=0-1,2-3", "bytes=1", "bytes= -x",
                            "bytes=99999999999999999999999-"})
        EXPECT_EQ(hd::parse_range(bad, 10, r), hd::RangeResult::ignore) << bad;
}

TEST(FileRanges, EtagLists) {
    EXPECT_TRUE(hd::etag_list_matches("*", "\"a\""));
    EXPECT_TRUE(hd::etag_list_matches("\"x\", W/\"a\"", "\"a\""));
    EXPECT_TRUE(hd::etag_list_matches(" \"a\" ", "\"a\""));
    EXPECT_FALSE(hd::etag_list_matches("\"ab\"", "\"a\""));
    EXPECT_FALSE(hd::etag_list_matches("", "\"a\""));
    EXPECT_EQ(hd::file_etag(0x5f00, 0x1a), "\"5f00-1a\"");
}

}  // namespace

}  // namespace http_static_files_test
