// bench/http/beast_server.cpp — the Boost.Beast hello-world server, written
// the way Beast's http_server_async example shapes one: a listener that
// accepts forever, a session per connection that reads a request, writes
// its response and reads the next (keep-alive), on one io_context run by
// one thread. GET / answers "Hello, World!"; GET /static/file64k the file
// from --root, read into memory once and sent from there (span_body: no
// copy per response). Anything else is 404.
// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "http_common.hpp"

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

std::string g_file;  // the static file's bytes

class Session : public std::enable_shared_from_this<Session> {
public:
    explicit Session(tcp::socket socket) : stream_(std::move(socket)) {}

    void start() { do_read(); }

private:
    void do_read() {
        req_ = {};
        http::async_read(stream_, buffer_, req_, beast::bind_front_handler(&Session::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec) return close();  // end of stream, reset, or a bad request
        bool keep = req_.keep_alive();
        if (req_.method() == http::verb::get && req_.target() == "/") {
            text_ = {http::status::ok, req_.version()};
            text_.set(http::field::server, "beast");
            text_.set(http::field::content_type, "text/plain; charset=utf-8");
            text_.body() = httpbench::kHello;
            text_.keep_alive(keep);
            text_.prepare_payload();
            http::async_write(stream_, text_, beast::bind_front_handler(&Session::on_write, shared_from_this(), keep));
        } else if (req_.method() == http::verb::get && req_.target() == "/static/file64k") {
            file_ = {http::status::ok, req_.version()};
            file_.set(http::field::server, "beast");
            file_.set(http::field::content_type, "application/octet-stream");
            file_.body() = http::span_body<const char>::value_type(g_file.data(), g_file.size());
            file_.keep_alive(keep);
            file_.prepare_payload();
            http::async_write(stream_, file_, beast::bind_front_handler(&Session::on_write, shared_from_this(), keep));
        } else {
            text_ = {http::status::not_found, req_.version()};
            text_.set(http::field::server, "beast");
            text_.body() = "not found";
            text_.keep_alive(keep);
            text_.prepare_payload();
            http::async_write(stream_, text_, beast::bind_front_handler(&Session::on_write, shared_from_this(), keep));
        }
    }

    void on_write(bool keep, beast::error_code ec, std::size_t) {
        if (ec || !keep) return close();
        do_read();
    }

    void close() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    http::request<http::empty_body> req_;
    http::response<http::string_body> text_;
    http::response<http::span_body<const char>> file_;
};

class Listener : public std::enable_shared_from_this<Listener> {
public:
    Listener(net::io_context& ioc, tcp::endpoint ep) : ioc_(ioc), acceptor_(ioc) {
        acceptor_.open(ep.protocol());
        acceptor_.set_option(net::socket_base::reuse_address(true));
        acceptor_.bind(ep);
        acceptor_.listen(httpbench::kBacklog);
    }

    unsigned short port() const { return acceptor_.local_endpoint().port(); }

    void start() { do_accept(); }

private:
    void do_accept() {
        // One thread: no strand needed.
        acceptor_.async_accept(ioc_, beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
    }

    void on_accept(beast::error_code ec, tcp::socket socket) {
        if (!ec) {
            socket.set_option(tcp::no_delay(true));
            std::make_shared<Session>(std::move(socket))->start();
        }
        do_accept();  // out of fds etc.: keep accepting
    }

    net::io_context& ioc_;
    tcp::acceptor acceptor_;
};

}  // namespace

int main(int argc, char** argv) {
    httpbench::Args a = httpbench::parse(argc, argv);
    httpbench::raise_nofile();
    std::ifstream in(a.root + "/file64k", std::ios::binary);
    g_file.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    net::io_context ioc(1);
    auto listener = std::make_shared<Listener>(
        ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(a.port)));
    listener->start();
    httpbench::announce(listener->port());
    ioc.run();
    return 0;
}
