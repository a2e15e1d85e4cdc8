// tulip/process/subprocess.hpp — create_subprocess_exec / create_subprocess_shell
// and Process (asyncio.subprocess).
//
//     auto p = co_await tulip::create_subprocess_exec("ls", {"-l"}, {.std_out = tulip::PIPE});
//     auto [out, err] = co_await p.communicate();   // std::optional<std::string> each
//     int rc = co_await p.wait();
//
// stdin/stdout/stderr are each inherited (default), PIPE (a StreamWriter /
// StreamReader on our side), DEVNULL, STDOUT (stderr only: merged into
// stdout) or a given fd. The pipes are socketpairs (so the stream transports
// can half-close them); a child that insists on a FIFO is the rare exception.
// Children are reaped through a pidfd watched by the loop (Linux 5.3+), or,
// where the kernel has none, by a helper thread blocked in waitpid().
//
// Errors: a program that cannot be started (missing, not executable)
// throws std::system_error at once, naming it. send_signal/terminate/kill
// after the process exited throw std::runtime_error (ProcessLookupError).
// Cancel safety: wait() is safe: the child is not killed, wait() again gives
// its status. communicate() is not: the child is not killed, but what it read
// of stdout/stderr is lost and the input may be partly written, with stdin
// left open (close std_in and read what is left, or kill the child).
// create_subprocess_exec/_shell are safe: cancelled once the child exists,
// they kill it (SIGKILL; it is still reaped) and close its pipes (asyncio).
// Lifetimes: Process is a handle (copies share the child). wait() and
// communicate() hold the process and its pipes, so they may outlive the
// handle they came from (CP.53). When the last handle to a pipe's stream is
// gone, that pipe is closed (the child sees EOF or EPIPE); the child itself is
// still reaped by the loop, whether or not anyone holds the Process.
// Thread safety: loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <tulip/core/ref.hpp>
#include <tulip/streams/stream_reader.hpp>
#include <tulip/streams/stream_writer.hpp>
#include <tulip/task/coro.hpp>
#include <tulip/task/future.hpp>

namespace tulip {

// Where a child's standard stream goes (asyncio's PIPE, DEVNULL, STDOUT, None, or an fd).
struct Stdio {
    enum class Kind { inherit, pipe, devnull, to_stdout, fd };
    Kind kind = Kind::inherit;
    int fd = -1;
    static Stdio from_fd(int fd) { return Stdio{Kind::fd, fd}; }
};
inline constexpr Stdio PIPE{Stdio::Kind::pipe, -1};
inline constexpr Stdio DEVNULL{Stdio::Kind::devnull, -1};
inline constexpr Stdio STDOUT{Stdio::Kind::to_stdout, -1};
inline constexpr Stdio INHERIT{Stdio::Kind::inherit, -1};

struct SubprocessOptions {
    // asyncio's stdin=, stdout=, stderr= (C's stdin/stdout/stderr are macros).
    Stdio std_in = INHERIT;
    Stdio std_out = INHERIT;
    Stdio std_err = INHERIT;
    // The whole environment of the child (nullopt: inherit ours).
    std::optional<std::map<std::string, std::string>> env;
    std::optional<std::string> cwd;
    bool start_new_session = false;
    // The StreamReaders' limit; <= 0 raises std::invalid_argument (ValueError).
    std::ptrdiff_t limit = 64 * 1024;
};

namespace detail {
class ProcessState;
}

class Process {
public:
    Process();
    explicit Process(Ref<detail::ProcessState> s);
    Process(const Process&);
    Process(Process&&) noexcept;
    Process& operator=(const Process&);
    Process& operator=(Process&&) noexcept;
    ~Process();

    int pid() const noexcept;
    // The exit status once known: the exit code, or -N if killed by signal N (as asyncio).
    std::optional<int> returncode() const noexcept;
    // Waits for the process to exit; returns returncode.
    Coro<int> wait();
    // Sends input (then closes stdin), reads stdout and stderr to EOF, waits
    // for exit. Returns {stdout, stderr}; a stream that is not PIPE gives
    // std::nullopt (asyncio: None), a PIPE the child wrote nothing to "".
    Coro<std::pair<std::optional<std::string>, std::optional<std::string>>> communicate(
        std::optional<std::string> input = std::nullopt);
    void send_signal(int sig);
    void terminate();  // SIGTERM
    void kill();       // SIGKILL

    // The pipes (asyncio's stdin, stdout, stderr): std::nullopt unless the
    // stream was PIPE (asyncio: None).
    std::optional<StreamWriter> std_in;
    std::optional<StreamReader> std_out;
    std::optional<StreamReader> std_err;

private:
    static Coro<int> wait_impl(Ref<detail::ProcessState> s);
    static Coro<std::pair<std::optional<std::string>, std::optional<std::string>>> communicate_impl(
        Process self, std::optional<std::string> input);
    Ref<detail::ProcessState> s_;
};

Coro<Process> create_subprocess_exec(std::string program, std::vector<std::string> args = {},
                                     SubprocessOptions options = {});
// Runs cmd with /bin/sh -c.
Coro<Process> create_subprocess_shell(std::string cmd, SubprocessOptions options = {});

}  // namespace tulip
