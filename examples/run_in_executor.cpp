// run_in_executor.cpp — blocking work goes to a thread; the loop keeps running.
//
// The asyncio original:
//
//     def read_all(fd):                       # blocking: os.read() until EOF
//         ...
//
//     async def main():
//         r, w = os.pipe()
//         reading = loop.run_in_executor(None, read_all, r)
//         asyncio.create_task(ticker(w))      # ticks 3 times, then feeds the pipe
//         data = await reading
//
// A blocking call (a plain read(), a library without async support) would
// freeze every task if it ran on the loop's thread. run_in_executor() runs it
// on the default thread pool and gives back a Future the loop can await.
// (tulip::to_thread(f, args...) is the shorter spelling, as asyncio.to_thread.)
//
// The proof that the loop was not blocked is built in: the pipe is fed by the
// ticker, a coroutine on the loop, and only after it has ticked three times.
// Had the read frozen the loop, the ticker could never run, nothing would be
// written, and the program would hang instead of printing its last line.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <string>
#include <string_view>
#include <system_error>

#include <tulip/tulip.hpp>

#include "examples.hpp"

namespace {

using namespace std::chrono_literals;

// Both ends of a pipe, closed on scope exit whatever happens.
struct Pipe {
    int r = -1, w = -1;
    Pipe() {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
        r = fds[0];
        w = fds[1];
    }
    Pipe(const Pipe&) = delete;
    Pipe& operator=(const Pipe&) = delete;
    ~Pipe() {
        close_write();
        if (r >= 0) ::close(r);
    }
    void close_write() {
        if (w >= 0) ::close(w);
        w = -1;  // the reader now sees EOF
    }
};

// Plain blocking code: read() until end of file. Runs on a worker thread.
std::string read_all_blocking(int fd) {
    std::string out;
    char buf[256];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
            out.append(buf, static_cast<std::size_t>(n));
        } else if (n == 0) {
            return out;  // EOF: the writer closed its end
        } else if (errno != EINTR) {
            throw std::system_error(errno, std::generic_category(), "read");
        }
    }
}

// Ticks on the loop while the worker is blocked, then feeds the pipe.
tulip::Coro<void> ticker(Pipe* pipe) {
    for (int i = 1; i <= 3; ++i) {
        co_await tulip::sleep(20ms);
        std::cout << "  ticker: tick " << i << " (the loop is free)\n";
    }
    std::string_view msg = "hello through the pipe";
    // A short write to an empty pipe does not block (it is below PIPE_BUF).
    if (::write(pipe->w, msg.data(), msg.size()) != static_cast<ssize_t>(msg.size()))
        throw std::system_error(errno, std::generic_category(), "write");
    pipe->close_write();
    std::cout << "  ticker: fed the pipe and closed it\n";
}

tulip::Coro<int> amain() {
    Pipe pipe;
    tulip::EventLoop& loop = tulip::get_running_loop();

    // nullptr: the loop's default executor (a ThreadPoolExecutor), as `None` in asyncio.
    tulip::Future<std::string> reading = loop.run_in_executor(nullptr, [fd = pipe.r] { return read_all_blocking(fd); });
    std::cout << "main: read() now runs on a worker thread; main awaits its Future\n";

    tulip::Task<void> ticking = tulip::create_task(ticker(&pipe));
    std::string data = co_await reading;  // suspends this task only
    co_await ticking;
    std::cout << "main: the blocking read returned \"" << data << "\"; the loop was never blocked\n";
    co_return data == "hello through the pipe" ? 0 : 1;
}

}  // namespace

int examples::run_in_executor() { return tulip::run(amain()); }

#ifndef TULIP_DEMO
int main() { return examples::run_in_executor(); }
#endif
