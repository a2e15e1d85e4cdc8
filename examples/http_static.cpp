// http_static.cpp — a static-file server: add_static serves a directory
// with sendfile(2), Content-Type by extension, ETag/Last-Modified (and 304
// for a client that has the file already), and byte ranges.
//
// In Python (aiohttp):
//
//     app = web.Application()
//     app.router.add_static('/static', 'site/')
//     web.run_app(app)
//
// The example writes a small site into a temporary directory, serves it,
// and fetches it the way a browser would: the page, its stylesheet, the
// page again with If-None-Match (304: nothing resent), the second half of
// a file with Range, and a path that tries to climb out (404).
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include <tulip/tulip.hpp>

#include "examples.hpp"
#include "http_fetch.hpp"
#include "self_signed.hpp"

namespace {

using namespace tulip;

void write_file(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

Coro<int> amain() {
    examples::TempDir tmp;  // tmp/site is served; tmp/secret.txt must not be
    std::string site = tmp.path + "/site";
    std::filesystem::create_directory(site);
    write_file(site + "/index.html",
               "<!doctype html><link rel=stylesheet href=site.css><h1>tulip</h1><p>served by sendfile</p>\n");
    write_file(site + "/site.css", "h1 { color: #c2185b; }\n");
    write_file(tmp.path + "/secret.txt", "not for the web\n");

    http::Application app;
    app.add_static("/static", site);
    http::ServerOptions options;
    http::Server server = co_await http::start_server(std::move(app), "127.0.0.1", 0, options);
    std::uint16_t port = server.addresses().at(0).port();
    std::cout << "server: serving " << site << " at http://127.0.0.1:" << port << "/static/\n";

    examples::HttpConnection c = co_await examples::HttpConnection::open(port);
    examples::HttpReply page = co_await c.get("/static/index.html", "");
    std::cout << "GET index.html -> " << page.status << ", " << page.body.size() << " bytes, "
              << page.header("Content-Type") << ", ETag " << page.header("ETag") << "\n";
    examples::HttpReply css = co_await c.get("/static/site.css", "");
    std::cout << "GET site.css -> " << css.status << ", " << css.header("Content-Type") << "\n";
    examples::HttpReply again = co_await c.get("/static/index.html", "If-None-Match: " + page.header("ETag") + "\r\n");
    std::cout << "GET index.html with If-None-Match -> " << again.status << ", " << again.body.size()
              << " bytes resent\n";
    examples::HttpReply tail = co_await c.get("/static/site.css", "Range: bytes=5-\r\n");
    std::cout << "GET site.css with Range: bytes=5- -> " << tail.status << " " << tail.header("Content-Range") << ": \""
              << tail.body.substr(0, tail.body.size() - 1) << "\"\n";
    examples::HttpReply climb = co_await c.get("/static/%2e%2e/secret.txt", "");
    std::cout << "GET /static/%2e%2e/secret.txt -> " << climb.status << "\n";
    co_await c.close();
    co_await server.shutdown(1.0);

    bool ok = page.status == 200 && css.header("Content-Type") == "text/css; charset=utf-8" && again.status == 304 &&
              tail.status == 206 && climb.status == 404;
    std::cout << (ok ? "the site was served as a browser expects; nothing outside it" : "UNEXPECTED ANSWERS") << "\n";
    co_return ok ? 0 : 1;
}

}  // namespace

int examples::http_static() { return tulip::run(amain()); }

#ifndef TULIP_DEMO
int main() { return examples::http_static(); }
#endif
