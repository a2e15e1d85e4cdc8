// Tests of http::run_app: serving on one loop, and on several (workers), each
// with its own Application, all on one port with SO_REUSEPORT so the kernel
// spreads the connections between them.
#include <tulip/http/server.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <tulip/task/sleep.hpp>
#include <tulip/task/to_thread.hpp>

namespace http_run_app_test {

using namespace tulip;

namespace {

// One request on a fresh connection, blocking (run from an executor thread):
// the whole response, read until the server closes.
std::string get_once(std::uint16_t port, const std::string& path) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket");
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string out;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
        std::string req = "GET " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
        if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
            char buf[4096];
            ssize_t n;
            while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<std::size_t>(n));
        }
    }
    ::close(fd);
    return out;
}

}  // namespace

TEST(RunApp, WorkersShareOnePortAndEachServesWithItsOwnApplication) {
    constexpr int kRequests = 40;
    std::atomic<int> apps{0};
    std::mutex mu;
    std::map<std::string, int> by_worker;  // which worker's app answered, how often
    int ok = 0;
    auto make_app = [&] {
        int id = apps.fetch_add(1);
        http::Application app;
        app.get("/who", [id](http::Request&) -> Coro<http::Response> {
            co_return http::Response::text("worker " + std::to_string(id));
        });
        return app;
    };
    std::atomic<bool> client_done{false};
    http::ServerOptions options;
    options.workers = 2;
    http::run_app(make_app, "127.0.0.1", 0, options, [&](std::size_t worker, http::Server& server) -> Coro<void> {
        if (worker == 0) {
            std::uint16_t port = server.addresses().at(0).port();
            auto client = [&, port] {
                for (int i = 0; i < kRequests; ++i) {
                    std::string r = get_once(port, "/who");
                    std::size_t at = r.find("worker ");
                    std::lock_guard g(mu);
                    if (r.rfind("HTTP/1.1 200", 0) == 0 && at != std::string::npos) {
                        ++ok;
                        ++by_worker[r.substr(at)];
                    }
                }
            };
            co_await to_thread(client);
            client_done = true;
        }
        for (int i = 0; i < 1000 && !client_done; ++i) co_await sleep(0.01);
    });
    EXPECT_EQ(apps.load(), 2) << "one Application per worker";
    EXPECT_EQ(ok, kRequests);
    // 40 connections hashed over two listeners: both serve (all on one: 2^-39).
    EXPECT_EQ(by_worker.size(), 2u);
}

TEST(RunApp, OneWorkerServesOnTheCallingThread) {
    std::thread::id handler_thread;
    std::string reply;
    auto make_app = [&] {
        http::Application app;
        app.get("/", [&](http::Request&) -> Coro<http::Response> {
            handler_thread = std::this_thread::get_id();
            co_return http::Response::text("hi");
        });
        return app;
    };
    http::run_app(make_app, "127.0.0.1", 0, {}, [&](std::size_t, http::Server& server) -> Coro<void> {
        std::uint16_t port = server.addresses().at(0).port();
        auto client = [&, port] { reply = get_once(port, "/"); };
        co_await to_thread(client);
    });
    EXPECT_EQ(handler_thread, std::this_thread::get_id());
    EXPECT_EQ(reply.substr(reply.size() - 2), "hi");
}

TEST(RunApp, NoApplicationFactoryIsRefused) {
    EXPECT_THROW(http::run_app(nullptr, "127.0.0.1", 0), std::invalid_argument);
}

}  // namespace http_run_app_test
