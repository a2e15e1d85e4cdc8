// chat_server.cpp — a TCP chat room: every line a client sends goes to all the others.
//
// The asyncio shape (a Protocol per connection, a shared set of clients):
//
//     class ChatProtocol(asyncio.Protocol):
//         def connection_made(self, transport):
//             self.transport = transport
//         def data_received(self, data):
//             for line in split_lines(data):
//                 if self.name is None:                  # the first line is a nickname
//                     self.name = line; room.add(self)
//                     self.transport.write(b"welcome " + line)
//                     room.broadcast(self, b"* " + line + b" joined")
//                 else:
//                     room.broadcast(self, self.name + b": " + line)
//         def connection_lost(self, exc):
//             room.discard(self); room.broadcast(self, b"* " + self.name + b" left")
//
//     server = await loop.create_server(ChatProtocol, '127.0.0.1', 0)
//
// The server is written with transports and protocols (callbacks, no
// coroutines: data_received() just writes to the other clients' transports).
// The three clients — alice, bob and carol — use streams and run in the same
// process. They take turns, each waiting to read what it expects, so the
// conversation below comes out in the same order every time.
#include <algorithm>
#include <cstdint>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <tulip/tulip.hpp>

#include "examples.hpp"

namespace {

class ChatProtocol;

// Who is connected. Lives in main; every protocol points to it.
struct ChatRoom {
    std::vector<ChatProtocol*> members;
    void broadcast(const ChatProtocol* from, std::string_view line);
};

class ChatProtocol : public tulip::Protocol {
public:
    explicit ChatProtocol(ChatRoom& room) : room_(room) {}

    void connection_made(tulip::Transport& transport) override {
        transport_ = &transport;  // valid until connection_lost (the loop keeps it alive)
    }

    void data_received(std::string_view data) override {
        // TCP delivers bytes, not lines: keep what is incomplete for next time.
        pending_ += data;
        for (std::size_t eol; (eol = pending_.find('\n')) != std::string::npos;) {
            std::string line = pending_.substr(0, eol);
            pending_.erase(0, eol + 1);
            on_line(line);
        }
    }

    void connection_lost(std::exception_ptr) override {
        std::erase(room_.members, this);
        if (!name_.empty()) room_.broadcast(this, "* " + name_ + " left");
        transport_ = nullptr;  // the transport destroys this protocol after the call
    }

    void send(std::string_view line) {
        if (!transport_ || transport_->is_closing()) return;
        std::string out(line);
        out += '\n';
        transport_->write(out);  // never blocks: queued if the socket is full
    }

private:
    void on_line(const std::string& line) {
        if (name_.empty()) {  // the first line is the nickname
            name_ = line;
            room_.members.push_back(this);
            send("welcome " + name_);
            room_.broadcast(this, "* " + name_ + " joined");
        } else {
            room_.broadcast(this, name_ + ": " + line);
        }
    }

    ChatRoom& room_;
    tulip::Transport* transport_ = nullptr;
    std::string name_;
    std::string pending_;
};

void ChatRoom::broadcast(const ChatProtocol* from, std::string_view line) {
    for (ChatProtocol* m : members)
        if (m != from) m->send(line);
}

// ---- the clients ----------------------------------------------------------

struct Client {
    std::string name;
    tulip::StreamReader reader;
    tulip::StreamWriter writer;
    int surprises = 0;  // lines that were not what the script expected
};

tulip::Coro<void> say(Client* c, std::string line) {
    std::cout << c->name << " says: " << line << "\n";
    line += '\n';
    c->writer.write(line);
    co_await c->writer.drain();
}

// Reads one line and checks it is the expected one.
tulip::Coro<void> hear(Client* c, std::string expected) {
    std::string line = co_await c->reader.readline();
    if (!line.empty() && line.back() == '\n') line.pop_back();
    std::cout << "    " << c->name << " sees: " << line << "\n";
    if (line != expected) {
        ++c->surprises;
        std::cout << "    (" << c->name << " expected: " << expected << ")\n";
    }
}

// Connects, sends the nickname, waits for the welcome (so the server has
// registered this client before the next one joins).
tulip::Coro<void> join(Client* c, std::uint16_t port) {
    auto [reader, writer] = co_await tulip::open_connection("127.0.0.1", port);
    c->reader = reader;
    c->writer = writer;
    std::cout << c->name << " connects and sends the nickname\n";
    std::string nick = c->name + "\n";
    c->writer.write(nick);
    co_await c->writer.drain();
    co_await hear(c, "welcome " + c->name);
}

tulip::Coro<void> leave(Client* c) {
    std::cout << c->name << " leaves\n";
    c->writer.close();
    co_await c->writer.wait_closed();
}

tulip::Coro<int> amain() {
    ChatRoom room;
    auto factory = [&room] { return std::make_unique<ChatProtocol>(room); };
    tulip::Server server = co_await tulip::create_server(factory, "127.0.0.1", 0);
    std::uint16_t port = server.addresses().at(0).port();

    Client alice{"alice", {}, {}}, bob{"bob", {}, {}}, carol{"carol", {}, {}};
    co_await join(&alice, port);
    co_await join(&bob, port);
    co_await hear(&alice, "* bob joined");
    co_await join(&carol, port);
    co_await hear(&alice, "* carol joined");
    co_await hear(&bob, "* carol joined");

    co_await say(&alice, "hi everyone");
    co_await hear(&bob, "alice: hi everyone");
    co_await hear(&carol, "alice: hi everyone");

    co_await say(&bob, "hello alice");
    co_await hear(&alice, "bob: hello alice");
    co_await hear(&carol, "bob: hello alice");

    co_await say(&carol, "gotta go, bye");
    co_await leave(&carol);
    co_await hear(&alice, "carol: gotta go, bye");
    co_await hear(&alice, "* carol left");
    co_await hear(&bob, "carol: gotta go, bye");
    co_await hear(&bob, "* carol left");

    co_await leave(&alice);
    co_await hear(&bob, "* alice left");
    co_await leave(&bob);

    server.close();
    co_await server.wait_closed();  // every connection is gone
    int surprises = alice.surprises + bob.surprises + carol.surprises;
    std::cout << "room empty: " << (room.members.empty() ? "yes" : "no") << "; every line reached every other client"
              << (surprises == 0 ? "" : " -- NOT! some lines differ") << "\n";
    co_return (surprises == 0 && room.members.empty()) ? 0 : 1;
}

}  // namespace

int examples::chat_server() { return tulip::run(amain()); }

#ifndef TULIP_DEMO
int main() { return examples::chat_server(); }
#endif
