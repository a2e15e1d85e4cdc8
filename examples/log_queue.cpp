// log_queue.cpp — logging from plain functions through a queue to a log server.
//
// The asyncio pattern:
//
//     log_queue = asyncio.Queue()
//
//     def log(msg):                       # a plain function: no await needed
//         log_queue.put_nowait(msg)
//
//     async def ship_logs(host, port):    # the only coroutine that touches the socket
//         reader, writer = await asyncio.open_connection(host, port)
//         while True:
//             msg = await log_queue.get()
//             writer.write(msg.encode() + b"\n")
//             await writer.drain()
//             log_queue.task_done()
//
// Code that is not async (a parser, a callback) cannot await a socket write.
// It can put a message in an unbounded queue with put_nowait(), which never
// waits; one consumer coroutine takes messages out and writes them to the log
// server over TCP. queue.join() waits until every message put so far has been
// written, and queue.shutdown() (Python 3.13) tells the consumer to stop.
//
// The log server is in the same process: a start_server() handler that prints
// what arrives. (A Queue is for the loop's own thread. From another thread,
// hand the message over with loop.call_soon_threadsafe first.)
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include <tulip/tulip.hpp>

#include "examples.hpp"

namespace {

using namespace std::chrono_literals;

// ---- the application side: plain, non-async code ----------------------------

class Logger {
public:
    explicit Logger(tulip::Queue<std::string>& queue) : queue_(queue) {}
    // Never waits: the queue is unbounded, so put_nowait() cannot throw QueueFull.
    void info(const std::string& msg) { queue_.put_nowait("INFO " + msg); }
    void warning(const std::string& msg) { queue_.put_nowait("WARN " + msg); }

private:
    tulip::Queue<std::string>& queue_;
};

int parse_order(Logger& log, const std::string& text) {
    log.info("parsing order '" + text + "'");
    int quantity = std::stoi(text);
    if (quantity > 10) log.warning("large order: " + std::to_string(quantity) + " items");
    return quantity;
}

// ---- the consumer: the one coroutine that talks to the log server -------------

tulip::Coro<int> ship_logs(tulip::Queue<std::string>* queue, std::uint16_t port) {
    auto [reader, writer] = co_await tulip::open_connection("127.0.0.1", port);
    int shipped = 0;
    try {
        for (;;) {
            std::string msg = co_await queue->get();  // raises QueueShutDown once shut down and empty
            msg += '\n';
            writer.write(msg);
            co_await writer.drain();
            ++shipped;
            queue->task_done();
        }
    } catch (const tulip::QueueShutDown&) {
        // No more messages will come.
    }
    writer.close();
    co_await writer.wait_closed();
    co_return shipped;
}

// ---- the log server (same process) -------------------------------------------

struct LogServerState {
    std::vector<std::string> lines;
    tulip::Event finished;  // set when the connection reached EOF
};

tulip::Coro<void> log_server_handler(tulip::StreamReader reader, tulip::StreamWriter writer, LogServerState* st) {
    for (;;) {
        std::string line = co_await reader.readline();
        if (line.empty()) break;  // EOF: the shipper closed the connection
        line.pop_back();          // the '\n'
        std::cout << "  [log server] " << line << "\n";
        st->lines.push_back(line);
    }
    writer.close();
    co_await writer.wait_closed();
    st->finished.set();
}

tulip::Coro<int> amain() {
    LogServerState state;
    // The handler needs the shared state: a small lambda (not itself a
    // coroutine) passes it to the real handler as an argument.
    tulip::ClientConnected handler = [&state](tulip::StreamReader r, tulip::StreamWriter w) {
        return log_server_handler(std::move(r), std::move(w), &state);
    };
    tulip::Server server = co_await tulip::start_server(handler, "127.0.0.1", 0);

    tulip::Queue<std::string> queue;  // unbounded (maxsize 0)
    Logger log(queue);
    tulip::Task<int> shipper = tulip::create_task(ship_logs(&queue, server.addresses().at(0).port()));

    // The application works, logging from plain functions as it goes...
    log.info("service starting");
    static const std::string kOrders[] = {"3", "12", "5"};
    int total = 0;
    for (const std::string& order : kOrders) {
        total += parse_order(log, order);
        co_await tulip::sleep(0);  // ...and between pieces of work, the shipper gets its turn
    }
    // ...even from a loop callback, which is not a coroutine either.
    tulip::get_running_loop().call_soon([&log, total] { log.info("total: " + std::to_string(total) + " items"); });
    co_await tulip::sleep(0);  // let that callback run
    log.info("service stopping");

    co_await queue.join();  // every message was written (and drained) to the socket
    queue.shutdown();       // the shipper's next get() raises QueueShutDown
    int shipped = co_await shipper;
    co_await state.finished.wait();  // the server has read everything, up to EOF
    server.close();
    co_await server.wait_closed();

    std::cout << shipped << " messages shipped, " << state.lines.size()
              << " received by the log server, in order; no logging call ever awaited\n";
    bool ok = shipped == 7 && state.lines.size() == 7 && state.lines.front() == "INFO service starting" &&
              state.lines.back() == "INFO service stopping";
    co_return ok ? 0 : 1;
}

}  // namespace

int examples::log_queue() { return tulip::run(amain()); }

#ifndef TULIP_DEMO
int main() { return examples::log_queue(); }
#endif
