// Subprocesses: posix_spawn (vfork-speed, and it reports exec failures as an
// error code), socketpairs for PIPE, and a pidfd for exit notification.
#include <tulip/process/subprocess.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <tulip/core/exceptions.hpp>
#include <tulip/loop/loop_access.hpp>
#include <tulip/net/socket.hpp>
#include <tulip/streams/open_connection.hpp>
#include <tulip/task/gather.hpp>
#include <tulip/task/task.hpp>

#include "../core/sys.hpp"
#include "spawn_args.hpp"

extern char** environ;

namespace tulip {

namespace detail {

class ProcessState final : public RefCounted, public LoopClosable {
public:
    ProcessState(EventLoop& l, pid_t p, int pidfd) : loop(&l), pid(p), pidfd_(pidfd) { link_to_loop(l); }
    ~ProcessState() override {
        if (pidfd_ >= 0) {
            // Linked: the loop is alive and open (its close unlinks us first).
            if (loop_attached()) loop->remove_reader(pidfd_);
            ::close(pidfd_);
        }
    }

    // The loop closes before the child was reaped: stop watching (the
    // watcher's reference goes), drop the waiters (their tasks go with the
    // loop). The pidfd stays open so send_signal() still reaches this very
    // child; nothing reaps it any more (the user may waitpid(pid())), and
    // wait() throws "Event loop is closed".
    void on_loop_close() noexcept override {
        Ref<ProcessState> keep(this);
        waiters.clear();
        if (pidfd_ >= 0) loop->remove_reader(pidfd_);
    }

    void watch() {
        if (pidfd_ >= 0) {
            Ref<ProcessState> self(this);  // kept until the child is reaped
            loop->add_reader(pidfd_, [self] { self->on_pidfd(); });
            return;
        }
        // No pidfd: a helper thread waits for this one child. It reaches the
        // loop only through its door (the loop may be closed and gone when the
        // child exits); the reference it keeps this state alive by is held by
        // the loop (in flight) and released on the loop thread, by the
        // post-back or by close().
        incref();
        track_in_flight_state();
        detail::LoopAccess::external_pending(*loop).fetch_add(1);
        pid_t p = pid;
        ProcessState* self = this;  // only dereferenced by the callback, on the loop
        std::thread([door = loop->threadsafe_ref(), p, self] {
            int status = 0;
            pid_t r;
            do {
                r = ::waitpid(p, &status, 0);
            } while (r < 0 && errno == EINTR);
            try {
                EventLoop* l = door.door()->loop();
                door.door()->call_soon_threadsafe([self, status, l] {
                    detail::LoopAccess::external_pending(*l).fetch_sub(1);
                    if (!detail::LoopAccess::untrack_in_flight(*l, self)) return;  // close() released it
                    self->set_status(status);
                    self->decref();
                });
            } catch (...) {
                // The loop is closed: close() released the state.
            }
        }).detach();
    }

    void track_in_flight_state() {
        try {
            detail::LoopAccess::track_in_flight(*loop, this,
                                                [](void* p) noexcept { static_cast<ProcessState*>(p)->decref(); });
        } catch (...) {
            decref();
            throw;
        }
    }

    void on_pidfd() {
        int status = 0;
        pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == 0) return;           // not yet (spurious)
        loop->remove_reader(pidfd_);  // drops the callback's reference last
        ::close(pidfd_);
        pidfd_ = -1;
        if (r < 0) {
            set_code(255);  // reaped elsewhere: the status is lost (asyncio logs and uses 255)
            return;
        }
        set_status(status);
    }

    void set_status(int status) {
        if (WIFSIGNALED(status))
            set_code(-WTERMSIG(status));
        else
            set_code(WEXITSTATUS(status));
    }
    void set_code(int code) {
        if (returncode) return;
        returncode = code;
        auto ws = std::move(waiters);
        waiters.clear();
        for (auto& w : ws)
            if (!w.done()) w.set_result(code);
    }

    void send_signal(int sig) {
        if (returncode) throw std::runtime_error("ProcessLookupError: the process has exited");
        int r = pidfd_ >= 0 ? static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd_, sig, nullptr, 0))
                            : ::kill(pid, sig);
        if (r < 0) throw_os_error(errno, "send_signal to pid " + std::to_string(pid));
    }

    EventLoop* loop;
    pid_t pid;
    std::optional<int> returncode;
    std::vector<Future<int>> waiters;

private:
    int pidfd_;
};

}  // namespace detail

Process::Process() = default;
Process::Process(Ref<detail::ProcessState> s) : s_(std::move(s)) {}
Process::Process(const Process&) = default;
Process::Process(Process&&) noexcept = default;
Process& Process::operator=(const Process&) = default;
Process& Process::operator=(Process&&) noexcept = default;
Process::~Process() = default;
int Process::pid() const noexcept { return s_->pid; }
std::optional<int> Process::returncode() const noexcept { return s_->returncode; }
void Process::send_signal(int sig) { s_->send_signal(sig); }
void Process::terminate() { s_->send_signal(SIGTERM); }
void Process::kill() { s_->send_signal(SIGKILL); }

// wait() and communicate() hand a copy of the handle to the coroutine: a
// member coroutine would keep `this`, which may be gone when it first runs.
Coro<int> Process::wait() { return wait_impl(s_); }

Coro<int> Process::wait_impl(Ref<detail::ProcessState> s) {
    if (s->returncode) co_return *s->returncode;
    if (!s->loop_attached()) throw std::runtime_error("Event loop is closed");
    auto f = Future<int>::create(*s->loop);
    s->waiters.push_back(f);
    co_return co_await f;
}

namespace {
Coro<void> feed_stdin(StreamWriter w, std::string input) {
    if (!input.empty()) {
        w.write(input);
        try {
            co_await w.drain();
        } catch (const std::system_error&) {
            // The child closed its stdin early (BrokenPipe/ConnectionReset): asyncio ignores it too.
        }
    }
    w.close();
}
Coro<std::optional<std::string>> read_all(std::optional<StreamReader> r) {
    if (!r) co_return std::nullopt;
    std::string all = co_await r->read();
    co_return all;
}
}  // namespace

Coro<std::pair<std::optional<std::string>, std::optional<std::string>>> Process::communicate(
    std::optional<std::string> input) {
    return communicate_impl(*this, std::move(input));
}

Coro<std::pair<std::optional<std::string>, std::optional<std::string>>> Process::communicate_impl(
    Process self, std::optional<std::string> input) {
    Task<void> writer;
    if (self.std_in) {
        writer = create_task(feed_stdin(*self.std_in, input.value_or(std::string())));
    } else if (input) {
        throw std::invalid_argument("communicate(input): stdin was not created with PIPE");
    }
    // Both pipes are read concurrently: a child filling stderr while we wait on
    // stdout cannot deadlock us.
    auto [out, err] = co_await gather(read_all(self.std_out), read_all(self.std_err));
    if (writer) co_await writer;
    co_await wait_impl(self.s_);
    co_return std::pair<std::optional<std::string>, std::optional<std::string>>(std::move(out), std::move(err));
}

namespace {

struct SpawnPlan {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    SpawnPlan() {
        ::posix_spawn_file_actions_init(&actions);
        ::posix_spawnattr_init(&attr);
    }
    ~SpawnPlan() {
        ::posix_spawn_file_actions_destroy(&actions);
        ::posix_spawnattr_destroy(&attr);
    }
};

Coro<Process> spawn(std::vector<std::string> argv, SubprocessOptions o) {
    EventLoop& loop = get_running_loop();
    // Checked before anything is made: a bad argument costs no fd.
    detail::SpawnArgs args(std::move(argv), o.env, o.cwd);
    (void)detail::checked_stream_limit(o.limit);  // before the child exists
    if (o.std_in.kind == Stdio::Kind::to_stdout || o.std_out.kind == Stdio::Kind::to_stdout)
        throw std::invalid_argument("STDOUT can only be used for stderr");

    SpawnPlan plan;
    std::vector<Socket> parent_ends(3);
    std::vector<Socket> child_ends(3);
    int devnull = -1;
    const Stdio* which[3] = {&o.std_in, &o.std_out, &o.std_err};
    for (int i = 0; i < 3; ++i) {
        const Stdio& s = *which[i];
        switch (s.kind) {
            case Stdio::Kind::inherit:
                break;
            case Stdio::Kind::pipe: {
                auto [a, b] = Socket::pair();
                // Keep only one direction open on each end.
                parent_ends[static_cast<std::size_t>(i)] = std::move(a);
                child_ends[static_cast<std::size_t>(i)] = std::move(b);
                int cfd = child_ends[static_cast<std::size_t>(i)].fileno();
                // The child's end must be blocking: most programs expect that.
                int fl = ::fcntl(cfd, F_GETFL);
                ::fcntl(cfd, F_SETFL, fl & ~O_NONBLOCK);
                ::posix_spawn_file_actions_adddup2(&plan.actions, cfd, i);
                break;
            }
            case Stdio::Kind::devnull:
                ::posix_spawn_file_actions_addopen(&plan.actions, i, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0);
                break;
            case Stdio::Kind::to_stdout:
                ::posix_spawn_file_actions_adddup2(&plan.actions, 1, 2);
                break;
            case Stdio::Kind::fd:
                if (s.fd < 0) throw std::invalid_argument("Stdio::from_fd: invalid fd " + std::to_string(s.fd));
                ::posix_spawn_file_actions_adddup2(&plan.actions, s.fd, i);
                break;
        }
    }
    (void)devnull;
    if (o.cwd) ::posix_spawn_file_actions_addchdir_np(&plan.actions, o.cwd->c_str());
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (o.start_new_session) flags |= POSIX_SPAWN_SETSID;
    sigset_t empty, all;
    ::sigemptyset(&empty);
    ::sigfillset(&all);
    ::posix_spawnattr_setsigmask(&plan.attr, &empty);
    ::posix_spawnattr_setsigdefault(&plan.attr, &all);  // handlers (ours: SIGINT...) reset in the child
    ::posix_spawnattr_setflags(&plan.attr, flags);

    pid_t pid = -1;
    int rc =
        detail::sys::posix_spawnp(&pid, args.program().c_str(), &plan.actions, &plan.attr, args.argv(), args.envp());
    if (rc != 0) throw_os_error(rc, "cannot run '" + args.program() + "'");
    for (auto& c : child_ends) c.close();

    int pidfd = detail::sys::pidfd_open(pid);
    if (pidfd >= 0) ::fcntl(pidfd, F_SETFD, FD_CLOEXEC);
    Ref<detail::ProcessState> st;
    try {
        st = Ref<detail::ProcessState>(new detail::ProcessState(loop, pid, pidfd));
        st->watch();
    } catch (...) {
        // Nothing will watch the child (bad_alloc): kill it and reap it here,
        // rather than leave it running, then a zombie, and its pidfd open.
        ::kill(pid, SIGKILL);
        while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {}
        if (!st && pidfd >= 0) ::close(pidfd);
        throw;
    }
    Process p(st);
    // Cancelled (or failed) while the pipes are being wrapped: the child is
    // killed, as asyncio kills it ("Exception during subprocess creation");
    // the loop still reaps it.
    try {
        if (parent_ends[0]) {
            parent_ends[0].shutdown(SHUT_RD);
            auto [r, w] = co_await detail::streams_over(std::move(parent_ends[0]), o.limit, false);
            p.std_in = w;
        }
        if (parent_ends[1]) {
            parent_ends[1].shutdown(SHUT_WR);
            auto [r, w] = co_await detail::streams_over(std::move(parent_ends[1]), o.limit, true);
            p.std_out = r;
        }
        if (parent_ends[2]) {
            parent_ends[2].shutdown(SHUT_WR);
            auto [r, w] = co_await detail::streams_over(std::move(parent_ends[2]), o.limit, true);
            p.std_err = r;
        }
    } catch (...) {
        try {
            st->send_signal(SIGKILL);
        } catch (...) {
            // already gone
        }
        throw;
    }
    co_return p;
}

}  // namespace

Coro<Process> create_subprocess_exec(std::string program, std::vector<std::string> args, SubprocessOptions options) {
    std::vector<std::string> argv;
    argv.reserve(args.size() + 1);
    argv.push_back(std::move(program));
    for (auto& a : args) argv.push_back(std::move(a));
    co_return co_await spawn(std::move(argv), std::move(options));
}

Coro<Process> create_subprocess_shell(std::string cmd, SubprocessOptions options) {
    std::vector<std::string> argv{"/bin/sh", "-c", std::move(cmd)};
    co_return co_await spawn(std::move(argv), std::move(options));
}

}  // namespace tulip
