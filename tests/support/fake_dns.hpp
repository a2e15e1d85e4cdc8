// tests/support/fake_dns.hpp — a DNS server for the tests (UDP on
// 127.0.0.1): A records it knows, NXDOMAIN for other names, an empty answer
// to AAAA; counts the A queries; can be told to stay silent.
#pragma once

#include <arpa/inet.h>

#include <any>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <tulip/net/datagram.hpp>
#include <tulip/task/coro.hpp>

namespace tulip::test {

// A DNS server for A queries: names it knows get their address and TTL,
// others NXDOMAIN; AAAA queries get an empty NOERROR. Counts the queries.
struct FakeDns {
    struct Record {
        std::string ipv4;
        std::uint32_t ttl;
    };
    std::map<std::string, Record> records;
    std::map<std::string, int> a_queries;
    bool silent = false;
    DatagramTransport* t = nullptr;

    void datagram_received(std::string_view q, const SocketAddress& from) {
        if (silent || q.size() < 12) return;
        // The question: labels from offset 12, then QTYPE, QCLASS.
        std::string name;
        std::size_t i = 12;
        while (i < q.size() && q[i] != 0) {
            auto len = static_cast<unsigned char>(q[i]);
            if (!name.empty()) name += '.';
            name.append(q.substr(i + 1, len));
            i += 1 + len;
        }
        if (i + 5 > q.size()) return;
        const std::size_t question_end = i + 5;
        const int qtype = (static_cast<unsigned char>(q[i + 1]) << 8) | static_cast<unsigned char>(q[i + 2]);
        std::string r(q.substr(0, question_end));
        auto it = records.find(name);
        bool answer = qtype == 1 && it != records.end();
        if (qtype == 1) ++a_queries[name];
        r[2] = static_cast<char>(0x81);                               // QR, RD
        r[3] = static_cast<char>(it == records.end() ? 0x83 : 0x80);  // RA; NXDOMAIN for unknown names
        r[6] = 0;
        r[7] = answer ? 1 : 0;  // ANCOUNT
        r[8] = r[9] = r[10] = r[11] = 0;
        if (answer) {
            in_addr a{};
            inet_pton(AF_INET, it->second.ipv4.c_str(), &a);
            const std::uint32_t ttl = it->second.ttl;
            const char rr[] = {static_cast<char>(0xC0),
                               12,
                               0,
                               1,
                               0,
                               1,  // name pointer, A, IN
                               static_cast<char>(ttl >> 24),
                               static_cast<char>(ttl >> 16),
                               static_cast<char>(ttl >> 8),
                               static_cast<char>(ttl),
                               0,
                               4};
            r.append(rr, sizeof rr);
            r.append(reinterpret_cast<const char*>(&a), 4);
        }
        t->sendto(r, &from);
    }
};

// A FakeDns on a UDP port; servers() is what ResolverOptions::servers takes.
class DnsServer {
public:
    FakeDns dns;
    Coro<void> start() {
        DatagramOptions o;
        o.local_addr = SocketAddress::from_ip("127.0.0.1", 0);
        auto factory = [this] { return std::make_unique<Forward>(&dns); };
        auto [t, p] = co_await create_datagram_endpoint(factory, o);
        transport_ = t;
        servers_ = "127.0.0.1:" + std::to_string(std::any_cast<SocketAddress>(t->get_extra_info("sockname")).port());
    }
    const std::string& servers() const noexcept { return servers_; }
    void close() {
        if (transport_) transport_->close();
        transport_ = Ref<DatagramTransport>();
    }

private:
    // The transport owns its protocol: it forwards to `dns`.
    struct Forward : DatagramProtocol {
        explicit Forward(FakeDns* d) : d(d) {}
        void connection_made(DatagramTransport& t) override { d->t = &t; }
        void datagram_received(std::string_view q, const SocketAddress& from) override {
            d->datagram_received(q, from);
        }
        FakeDns* d;
    };
    Ref<DatagramTransport> transport_;
    std::string servers_;
};

}  // namespace tulip::test
