// tulip/net/protocol.hpp — protocols (asyncio.BaseProtocol, Protocol,
// BufferedProtocol, DatagramProtocol).
//
// The callback interface a transport drives. Subclass and override what you
// need; every method has a do-nothing default. Callbacks run on the loop,
// never inline from a transport method the protocol itself called, except
// where asyncio does the same (pause_writing from write()).
//
// Order: connection_made, then data_received*/buffer_updated*, then at most
// one eof_received, then exactly one connection_lost.
#pragma once

#include <cstddef>
#include <exception>
#include <span>
#include <string_view>

#include <tulip/net/address.hpp>

namespace tulip {

class Transport;
class DatagramTransport;
class BaseTransport;

class BaseProtocol {
public:
    virtual ~BaseProtocol() = default;
    // exc is null on a clean close (EOF or close()), else the error.
    virtual void connection_lost(std::exception_ptr exc) { (void)exc; }
    // The transport's write buffer went over the high-water mark.
    virtual void pause_writing() {}
    // ... and back to (or under) the low-water mark.
    virtual void resume_writing() {}
};

class Protocol : public BaseProtocol {
public:
    virtual void connection_made(Transport& transport) { (void)transport; }
    // The bytes are lent for the duration of the call.
    virtual void data_received(std::string_view data) { (void)data; }
    // The peer closed its write side. Return true to keep our side open
    // (half-close), false to let the transport close.
    virtual bool eof_received() { return false; }
};

// Reads straight into a buffer the protocol provides (no copy).
class BufferedProtocol : public BaseProtocol {
public:
    virtual void connection_made(Transport& transport) { (void)transport; }
    // A buffer to read into; size_hint is a suggestion (asyncio passes -1: any).
    virtual std::span<char> get_buffer(std::size_t size_hint) = 0;
    // n bytes were written at the start of the last buffer.
    virtual void buffer_updated(std::size_t n) = 0;
    virtual bool eof_received() { return false; }
};

class DatagramProtocol : public BaseProtocol {
public:
    virtual void connection_made(DatagramTransport& transport) { (void)transport; }
    virtual void datagram_received(std::string_view data, const SocketAddress& addr) {
        (void)data;
        (void)addr;
    }
    // A send or receive failed (e.g. ICMP port unreachable: ConnectionRefusedError).
    virtual void error_received(std::exception_ptr exc) { (void)exc; }
};

}  // namespace tulip
