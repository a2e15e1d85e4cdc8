#include "support/net.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <system_error>

namespace tulip::test {

bool ipv6_available() {
    try {
        Socket s = Socket::create(AF_INET6);
        s.bind(SocketAddress::from_ip("::1", 0));
        return true;
    } catch (const std::system_error&) {
        return false;
    }
}

Socket listener(const char* host) {
    SocketAddress a = SocketAddress::from_ip(host, 0);
    Socket l = Socket::create(a.family());
    l.bind(a);
    l.listen();
    return l;
}

SocketAddress closed_address(const char* host) {
    SocketAddress a = SocketAddress::from_ip(host, 0);
    Socket s = Socket::create(a.family());
    s.bind(a);
    return s.getsockname();
}

Coro<std::pair<Socket, Socket>> tcp_pair() {
    Socket l = listener();
    Socket c = Socket::create(AF_INET);
    co_await sock_connect(c, l.getsockname());
    auto accepted = co_await sock_accept(l);
    co_return std::pair<Socket, Socket>(std::move(c), std::move(accepted.first));
}

Coro<void> echo_lines(StreamReader reader, StreamWriter writer) {
    for (;;) {
        std::string line = co_await reader.readline();
        if (line.empty()) break;
        writer.write(line);
        co_await writer.drain();
    }
    writer.close();
    co_await writer.wait_closed();
}

Coro<std::string> recv_exactly(Socket& s, std::size_t n) {
    std::string out;
    while (out.size() < n) {
        std::string chunk = co_await sock_recv(s, std::min<std::size_t>(n - out.size(), 1 << 20));
        if (chunk.empty()) break;
        out += chunk;
    }
    co_return out;
}

Coro<std::string> recv_until_eof(Socket& s) {
    std::string out;
    for (;;) {
        std::string chunk = co_await sock_recv(s, 1 << 16);
        if (chunk.empty()) co_return out;
        out += chunk;
    }
}

void reset_on_close(Socket& s) {
    ::linger lg{1, 0};
    ::setsockopt(s.fileno(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

std::string pattern(std::size_t from, std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = pattern_byte(from + i);
    return s;
}

void Recorder::connection_made(Transport& t) {
    r->transport = &t;
    r->events.push_back("made");
}

void Recorder::data_received(std::string_view d) {
    if (r->events.empty() || r->events.back() != "data") r->events.push_back("data");
    r->data.append(d);
}

bool Recorder::eof_received() {
    r->events.push_back("eof");
    return keep_open;
}

void Recorder::connection_lost(std::exception_ptr e) {
    r->events.push_back("lost");
    ++r->lost;
    r->error = e;
}

Coro<std::pair<Ref<Transport>, Socket>> connect_recorder(Record& rec, bool keep_open) {
    auto p = co_await tcp_pair();
    auto factory = [&rec, keep_open] { return std::make_unique<Recorder>(&rec, keep_open); };
    auto conn = co_await create_connection(factory, std::move(p.first));
    co_return std::pair<Ref<Transport>, Socket>(conn.first, std::move(p.second));
}

void ServerRecorder::connection_made(Transport& tr) {
    t = &tr;
    ++s->made;
    s->live.push_back(&tr);
}

void ServerRecorder::data_received(std::string_view d) {
    s->data.append(d);
    if (s->echo) t->write(d);
}

void ServerRecorder::connection_lost(std::exception_ptr) {
    ++s->lost;
    std::erase(s->live, t);
}

}  // namespace tulip::test
