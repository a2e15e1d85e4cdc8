// tests/support/net.hpp — the socket and protocol helpers the net, streams
// and lifetime tests share: loopback listeners and connected TCP pairs,
// reading a raw peer socket, a byte pattern that shows reordering, and
// protocols that record what a transport did to them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tulip/tulip.hpp>

namespace tulip::test {

// True when an IPv6 socket can bind ::1 (containers often have no IPv6).
bool ipv6_available();

// A TCP socket listening on host (an IP literal) at a port the kernel picks.
Socket listener(const char* host = "127.0.0.1");
// An address on host where nobody listens (a port bound once, then freed).
SocketAddress closed_address(const char* host = "127.0.0.1");

// The port a server listens on (its first address).
inline std::uint16_t port_of(const Server& s) { return s.addresses().at(0).port(); }

// A connected TCP pair over 127.0.0.1: {the connecting side, the accepted side}.
Coro<std::pair<Socket, Socket>> tcp_pair();

// A start_server callback: echoes each line back until EOF, then closes.
Coro<void> echo_lines(StreamReader reader, StreamWriter writer);

// Reads from a raw socket until n bytes came (fewer at EOF).
Coro<std::string> recv_exactly(Socket& s, std::size_t n);
// Reads from a raw socket until EOF.
Coro<std::string> recv_until_eof(Socket& s);

// Makes close() send a RST instead of a FIN (SO_LINGER with a zero timeout).
void reset_on_close(Socket& s);

// Byte i of the stream a test writes: a pattern that catches reordering.
inline char pattern_byte(std::size_t i) { return static_cast<char>(i % 251); }
// n bytes of that pattern, from stream offset `from`.
std::string pattern(std::size_t from, std::size_t n);

// What a Recorder saw; lives in the test, so it outlives the transport.
struct Record {
    std::vector<std::string> events;  // "made", "data" (runs merged), "eof", "lost"
    std::string data;
    Transport* transport = nullptr;
    std::exception_ptr error;
    int lost = 0;
    int paused = 0;
    int resumed = 0;
};

// A Protocol that writes every callback into a Record; with keep_open,
// eof_received() keeps the transport open (half-close).
struct Recorder : Protocol {
    explicit Recorder(Record* r, bool keep_open = false) : r(r), keep_open(keep_open) {}
    void connection_made(Transport& t) override;
    void data_received(std::string_view d) override;
    bool eof_received() override;
    void connection_lost(std::exception_ptr e) override;
    void pause_writing() override { ++r->paused; }
    void resume_writing() override { ++r->resumed; }
    Record* r;
    bool keep_open;
};

using Events = std::vector<std::string>;

// Connects a Recorder to a fresh TCP peer: {transport, peer socket}.
Coro<std::pair<Ref<Transport>, Socket>> connect_recorder(Record& rec, bool keep_open = false);

// What a server's connections saw, shared by all of them.
struct ServerRecord {
    int made = 0;
    int lost = 0;
    std::string data;
    std::vector<Transport*> live;  // server-side transports between made and lost
    bool echo = false;             // write back what comes in
};

// The protocol of each connection a test server accepts.
struct ServerRecorder : Protocol {
    explicit ServerRecorder(ServerRecord* s) : s(s) {}
    void connection_made(Transport& tr) override;
    void data_received(std::string_view d) override;
    void connection_lost(std::exception_ptr) override;
    ServerRecord* s;
    Transport* t = nullptr;
};

// A protocol factory for create_server: a ServerRecorder per connection.
inline auto server_factory(ServerRecord& s) {
    return [&s] { return std::make_unique<ServerRecorder>(&s); };
}

}  // namespace tulip::test
