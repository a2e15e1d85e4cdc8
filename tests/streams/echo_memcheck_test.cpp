// A 1,000-message echo over TCP with streams, every message checked byte for
// byte. It runs in every leg like any test, and again under valgrind's
// memcheck in the plain debug build (reliability.valgrind_echo, registered
// in tests/CMakeLists.txt; the reliability program's category 1): memcheck sees what
// the sanitizers' instrumented build does not, uninitialised reads in the
// real binary and leaks at exit, with --error-exitcode=1.
#include <tulip/streams/open_connection.hpp>

#include <cstdint>
#include <string>

#include <tulip/tulip.hpp>

#include "support/loop_test.hpp"

namespace streams_echo_memcheck_test {

using namespace tulip;

class EchoMemcheck : public test::RealTimeLoopTest {};

constexpr int kMessages = 1000;

// Message i: a 4-byte length, then (i * 37) % 2000 + 1 bytes of a pattern
// that depends on i, so a byte from the wrong message or offset shows.
std::string message(int i) {
    std::uint32_t n = static_cast<std::uint32_t>((i * 37) % 2000 + 1);
    std::string m(4 + n, '\0');
    for (int k = 0; k < 4; ++k) m[static_cast<std::size_t>(k)] = static_cast<char>((n >> (8 * k)) & 0xff);
    for (std::uint32_t k = 0; k < n; ++k)
        m[4 + k] = static_cast<char>((k * 131 + static_cast<std::uint32_t>(i)) & 0xff);
    return m;
}

Coro<void> echo_framed(StreamReader reader, StreamWriter writer) {
    for (;;) {
        std::string head = co_await reader.read(4);
        if (head.empty()) break;
        // read(4) may return fewer: take the rest of the header exactly.
        if (head.size() < 4) head += co_await reader.readexactly(4 - head.size());
        std::uint32_t n = 0;
        for (int k = 0; k < 4; ++k)
            n |= static_cast<std::uint32_t>(static_cast<unsigned char>(head[static_cast<std::size_t>(k)])) << (8 * k);
        std::string body = co_await reader.readexactly(n);
        writer.write(head + body);
        co_await writer.drain();
    }
    writer.close();
    co_await writer.wait_closed();
}

TEST_F(EchoMemcheck, AThousandMessagesComeBackIntact) {
    int intact = 0;
    auto main = [&intact]() -> Coro<void> {
        Server server = co_await start_server(echo_framed, "127.0.0.1", 0);
        auto port = server.addresses().at(0).port();
        auto [reader, writer] = co_await open_connection("127.0.0.1", port);
        for (int i = 0; i < kMessages; ++i) {
            std::string m = message(i);
            writer.write(m);
            co_await writer.drain();
            std::string back = co_await reader.readexactly(m.size());
            if (back == m) ++intact;
        }
        writer.write_eof();
        EXPECT_EQ(co_await reader.read(), "");
        writer.close();
        co_await writer.wait_closed();
        server.close();
        co_await server.wait_closed();
    };
    run(main());
    EXPECT_EQ(intact, kMessages);
}

}  // namespace streams_echo_memcheck_test
