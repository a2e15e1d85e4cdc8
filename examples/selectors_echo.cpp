// selectors_echo.cpp — an echo server made of callbacks on raw sockets.
//
// The Python original (docs of the `selectors` module):
//
//     def accept(sock, mask):
//         conn, addr = sock.accept()
//         conn.setblocking(False)
//         sel.register(conn, selectors.EVENT_READ, read)
//
//     def read(conn, mask):
//         data = conn.recv(1000)
//         if data:
//             conn.send(data)
//         else:
//             sel.unregister(conn)
//             conn.close()
//
//     sock = socket.socket(); sock.bind(('localhost', 1234)); sock.listen(100)
//     sock.setblocking(False)
//     sel.register(sock, selectors.EVENT_READ, accept)
//
// This is the level below coroutines: the loop watches file descriptors and
// calls a function when one is ready (loop.add_reader / add_writer). The
// server here has no coroutine at all: each callback does one non-blocking
// syscall and returns. Unlike the Python snippet it does not drop data when
// send() takes only part of it: the rest waits in a buffer, and an add_writer
// callback sends it once the socket has room again.
//
// The client is an ordinary coroutine (loop.sock_connect / sock_sendall /
// sock_recv), running as a task in the same process, on the same loop.
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include <tulip/tulip.hpp>

#include "examples.hpp"

namespace {

// The selectors-style server: a listening socket and a map of connections,
// driven only by add_reader/add_writer callbacks.
class EchoServer {
public:
    explicit EchoServer(tulip::EventLoop& loop) : loop_(loop) {
        listener_ = tulip::Socket::create(AF_INET);  // non-blocking and close-on-exec already
        listener_.set_reuse_address();
        listener_.bind(tulip::SocketAddress::from_ip("127.0.0.1", 0));  // port 0: any free port
        listener_.listen();
        // sel.register(sock, EVENT_READ, accept)
        loop_.add_reader(listener_.fileno(), [this] { accept(); });
    }
    EchoServer(const EchoServer&) = delete;
    EchoServer& operator=(const EchoServer&) = delete;
    ~EchoServer() { close(); }

    std::uint16_t port() const { return listener_.getsockname().port(); }
    int lines_echoed() const { return lines_; }

    // Stops watching every fd, then closes them (sockets close themselves).
    void close() {
        while (!conns_.empty()) drop(conns_.begin()->first);
        if (listener_) {
            loop_.remove_reader(listener_.fileno());
            listener_.close();
        }
    }

private:
    struct Connection {
        tulip::Socket sock;
        std::string unsent;  // bytes received but not yet sent back
    };

    // The listening socket is readable: a connection is waiting.
    void accept() {
        int fd = ::accept4(listener_.fileno(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;  // EAGAIN (the client gave up) or an error: nothing to do this time
        conns_.emplace(fd, Connection{tulip::Socket(fd), {}});
        std::cout << "server: accepted a connection\n";
        loop_.add_reader(fd, [this, fd] { read(fd); });  // sel.register(conn, EVENT_READ, read)
    }

    // A connection is readable: data, or the end of the stream.
    void read(int fd) {
        char buf[1000];
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
            Connection& c = conns_.at(fd);
            std::string_view got(buf, static_cast<std::size_t>(n));
            for (char ch : got) lines_ += (ch == '\n');
            c.unsent.append(got);
            flush(fd);
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            std::cout << "server: the client closed its end; closing ours\n";
            drop(fd);  // sel.unregister(conn); conn.close()
        }
    }

    // Sends what it can; if the socket is full, waits for it to be writable.
    void flush(int fd) {
        Connection& c = conns_.at(fd);
        while (!c.unsent.empty()) {
            ssize_t n = ::send(fd, c.unsent.data(), c.unsent.size(), MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN) break;
                drop(fd);  // the peer is gone (EPIPE, ECONNRESET)
                return;
            }
            c.unsent.erase(0, static_cast<std::size_t>(n));
        }
        if (c.unsent.empty())
            loop_.remove_writer(fd);
        else
            loop_.add_writer(fd, [this, fd] { flush(fd); });
    }

    void drop(int fd) {
        loop_.remove_reader(fd);
        loop_.remove_writer(fd);
        conns_.erase(fd);  // the Socket's destructor closes the fd
    }

    tulip::EventLoop& loop_;
    tulip::Socket listener_;
    std::map<int, Connection> conns_;
    int lines_ = 0;
};

// The client: sends each line and reads until the whole line came back.
tulip::Coro<int> client(std::uint16_t port) {
    tulip::Socket sock = tulip::Socket::create(AF_INET);
    co_await tulip::sock_connect(sock, tulip::SocketAddress::from_ip("127.0.0.1", port));
    static constexpr std::string_view kLines[] = {"hello\n", "selectors are the level below asyncio\n", "bye\n"};
    int mismatches = 0;
    for (std::string_view line : kLines) {
        std::string out(line);  // sock_sendall owns its data (it may run after this statement)
        co_await tulip::sock_sendall(sock, std::move(out));
        std::string echo;
        while (echo.size() < line.size()) {  // TCP is a byte stream: the echo may come in pieces
            std::string chunk = co_await tulip::sock_recv(sock, 1024);
            if (chunk.empty()) break;  // the server closed: stop
            echo += chunk;
        }
        bool same = echo == line;
        mismatches += !same;
        std::cout << "client: sent " << line.size() << " bytes, echo " << (same ? "matches" : "DIFFERS") << ": "
                  << echo;
    }
    sock.shutdown(SHUT_WR);                                    // tell the server we are done...
    std::string rest = co_await tulip::sock_recv(sock, 1024);  // ...and wait for it to close (EOF: "")
    std::cout << "client: the server closed the connection" << (rest.empty() ? "" : " (after extra bytes!)") << "\n";
    co_return mismatches + (rest.empty() ? 0 : 1);
}

tulip::Coro<int> amain() {
    EchoServer server(tulip::get_running_loop());
    int failures = co_await client(server.port());
    // The client saw the server close its end, so the connection is gone;
    // close() unregisters the listening socket (the destructor would too).
    server.close();
    std::cout << "echoed " << server.lines_echoed() << " lines, " << failures << " mismatches\n";
    co_return (failures == 0 && server.lines_echoed() == 3) ? 0 : 1;
}

}  // namespace

int examples::selectors_echo() { return tulip::run(amain()); }

#ifndef TULIP_DEMO
int main() { return examples::selectors_echo(); }
#endif
