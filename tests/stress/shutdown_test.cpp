// Shutdown at scale (the reliability program's part 6):
//
//   - run() whose main coroutine leaves 1,000 tasks pending (on sleeps,
//     Events, Queues, Futures, socket reads), async generators open and
//     executor jobs running: all tasks cancelled, every generator finalised,
//     the executor joined, the loop closed, in bounded time;
//   - 100 subprocess spawns at once (exiting, failing, killed, or never
//     waited for) leave no zombie;
//   - Server.close() + wait_closed() with 1,000 live connections: listening
//     stops at once, the connections keep working, wait_closed() returns
//     only when the last one is gone; the same with close_clients().
//
// Task counts are full size in every run (they are cheap); connection and
// child counts scale with TULIP_STRESS_SCALE (tests/stress/stress.hpp).
#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <tulip/tulip.hpp>

#include "stress/stress.hpp"
#include "support/loop_test.hpp"
#include "support/net.hpp"

namespace stress_shutdown_test {

using namespace tulip;
using stress::figures;
using stress::scaled;

// ---- run() with 1,000 pending tasks --------------------------------------------------------

class ShutdownRun : public test::LoopTest {};

struct Tally {
    int started = 0;
    int cancelled = 0;
    int cleaned_up = 0;  // tasks that awaited during their cancellation
    int gens_started = 0;
    int gens_finalised = 0;
    std::atomic<int> jobs_done{0};
};

// Parks a task on one kind of wait; counts the CancelledError it gets.
template <class A>
Coro<void> parked(A awaitable, Tally* t) {
    ++t->started;
    bool cancelled = false;
    try {
        co_await std::move(awaitable);
    } catch (const CancelledError&) {
        cancelled = true;
    }
    if (!cancelled) co_return;
    ++t->cancelled;
    throw CancelledError();
}

// Catches its cancellation, cleans up with an await, then ends cancelled.
Coro<void> cleans_up_when_cancelled(Tally* t) {
    ++t->started;
    bool cancelled = false;
    try {
        co_await sleep(3600);
    } catch (const CancelledError&) {
        cancelled = true;
    }
    if (!cancelled) co_return;
    co_await sleep(0);
    ++t->cleaned_up;
    ++t->cancelled;
    throw CancelledError();
}

// Yields forever; its cleanup awaits, then counts.
AsyncGenerator<int> ticker(Tally* t) {
    ++t->gens_started;
    bool closing = false;
    try {
        for (int i = 0;; ++i) co_yield i;
    } catch (const GeneratorExit&) {
        closing = true;
    }
    if (closing) {
        co_await sleep(0);
        ++t->gens_finalised;
    }
}

// Holds a generator half-way, in its frame, while it waits forever.
Coro<void> holds_a_generator(Tally* t) {
    ++t->started;
    AsyncGenerator<int> gen = ticker(t);
    auto first = co_await gen.next();
    EXPECT_EQ(first.value_or(-1), 0);
    bool cancelled = false;
    try {
        co_await sleep(3600);
    } catch (const CancelledError&) {
        cancelled = true;
    }
    if (cancelled) ++t->cancelled;
    throw CancelledError();
}

TEST_F(ShutdownRun, RunWithAThousandPendingTasksCancelsFinalisesJoinsAndCloses) {
    constexpr int kTasks = 1000;
    constexpr int kHeldGenerators = 50;   // open in task frames (finalised when the task goes)
    constexpr int kLooseGenerators = 50;  // open outside any task (shutdown_asyncgens)
    constexpr int kSocketTasks = 100;     // reads on socket pairs that never get data
    constexpr int kJobs = 8;
    if (auto why = stress::fd_shortfall(2 * kSocketTasks + 64); !why.empty()) GTEST_SKIP() << why;
    int cleaners = 0;
    Tally t;
    Event never;
    Queue<int> empty_queue;
    std::vector<AsyncGenerator<int>> loose;
    std::vector<Future<int>> futures;
    std::vector<Socket> sockets;
    const std::size_t threads_before = test::thread_count();
    double main_s = 0, close_s = 0;
    bool loop_closed = false;
    {
        Runner runner;
        EventLoop* l = &runner.get_loop();
        stress::Stopwatch sw;
        runner.run(([&]() -> Coro<void> {
            for (int j = 0; j < kJobs; ++j) {
                (void)get_running_loop().run_in_executor(nullptr, [&t] {
                    std::this_thread::sleep_for(std::chrono::milliseconds(50));
                    t.jobs_done.fetch_add(1);
                });
            }
            for (int i = 0; i < kLooseGenerators; ++i) {
                loose.push_back(ticker(&t));
                auto v = co_await loose.back().next();
                EXPECT_TRUE(v.has_value());
            }
            int n = 0;
            for (; n < kHeldGenerators; ++n) create_task(holds_a_generator(&t));
            sockets.reserve(2 * kSocketTasks);  // no reallocation: the reads refer to them
            for (int i = 0; i < kSocketTasks; ++i, ++n) {
                auto pair = Socket::pair();
                sockets.push_back(std::move(pair.first));
                sockets.push_back(std::move(pair.second));
                create_task(parked(sock_recv(sockets[sockets.size() - 2], 100), &t));
            }
            for (; n < kTasks; ++n) {
                switch (n % 5) {
                    case 0:
                        create_task(parked(sleep(3600), &t));
                        break;
                    case 1:
                        create_task(parked(never.wait(), &t));
                        break;
                    case 2:
                        create_task(parked(empty_queue.get(), &t));
                        break;
                    case 3:
                        futures.push_back(get_running_loop().create_future<int>());
                        create_task(parked(futures.back(), &t));
                        break;
                    default:
                        create_task(cleans_up_when_cancelled(&t));
                        ++cleaners;
                        break;
                }
            }
            co_await test::eventually([&] { return t.started == kTasks; });
            co_return;
        })());
        main_s = sw.seconds();
        stress::Stopwatch close_sw;
        runner.close();
        close_s = close_sw.seconds();
        loop_closed = l->is_closed();
        // What the user still holds goes while the closed loop exists.
        futures.clear();
        sockets.clear();
        loose.clear();
    }
    EXPECT_TRUE(loop_closed);
    EXPECT_EQ(t.started, kTasks);
    EXPECT_EQ(t.cancelled, kTasks) << "a pending task was not cancelled";
    EXPECT_EQ(t.cleaned_up, cleaners);
    EXPECT_EQ(t.gens_started, kHeldGenerators + kLooseGenerators);
    EXPECT_EQ(t.gens_finalised, kHeldGenerators + kLooseGenerators) << "an async generator was not finalised";
    EXPECT_EQ(t.jobs_done.load(), kJobs) << "close() returned before the executor's jobs finished";
    for (int i = 0; i < 200 && test::thread_count() > threads_before; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_LE(test::thread_count(), threads_before) << "the executor's threads were not joined";
    // Bounded, not timed: the bound is two orders of magnitude above what it takes.
    EXPECT_LT(close_s, 60.0);
    figures("Shutdown.Run", "tasks=" + std::to_string(kTasks) + " cancelled=" + std::to_string(t.cancelled) +
                                " cleaned_up_with_await=" + std::to_string(t.cleaned_up) +
                                " generators_finalised=" + std::to_string(t.gens_finalised) + "/" +
                                std::to_string(kHeldGenerators + kLooseGenerators) + " executor_jobs_done=" +
                                std::to_string(t.jobs_done.load()) + "/" + std::to_string(kJobs) +
                                " main_s=" + std::to_string(main_s) + " close_s=" + std::to_string(close_s));
}

// run() whose main coroutine returns with a server and its connections
// live: the handler and client tasks are cancelled, and every socket (the
// listening one, both ends of each connection) is closed by the time run()
// returns: the fd count is back at its baseline.

// A client that waits for a line that never comes.
Coro<void> idle_client(std::uint16_t port, int* connected) {
    auto [r, w] = co_await open_connection("127.0.0.1", port);
    ++*connected;
    std::string line = co_await r.readline();
    ADD_FAILURE() << "got a line: " << line;
}

// The server side: waits for a line too (test::echo_lines), counted.
Coro<void> idle_handler(StreamReader r, StreamWriter w, int* handlers) {
    ++*handlers;
    co_await test::echo_lines(std::move(r), std::move(w));
}

TEST_F(ShutdownRun, RunReturningWithAThousandLiveConnectionsClosesEverySocket) {
    const std::size_t conns = scaled(1000, 20);
    if (auto why = stress::fd_shortfall(2 * conns + 64); !why.empty()) GTEST_SKIP() << why;
    const std::size_t fds_before = test::open_fd_count();
    int connected = 0, handlers = 0;
    std::size_t fds_during = 0, tasks_pending = 0;
    stress::Stopwatch sw;
    double close_s = 0;
    {
        Runner runner;
        runner.run(([&]() -> Coro<void> {
            StreamOptions so;
            so.server.backlog = static_cast<int>(conns) + 16;
            auto handler = [&handlers](StreamReader r, StreamWriter w) { return idle_handler(r, w, &handlers); };
            Server server = co_await start_server(handler, "127.0.0.1", 0, so);
            for (std::size_t i = 0; i < conns; ++i) create_task(idle_client(test::port_of(server), &connected));
            co_await test::eventually(
                [&] { return connected == static_cast<int>(conns) && handlers == static_cast<int>(conns); });
            fds_during = test::open_fd_count();
            tasks_pending = all_tasks(get_running_loop()).size() - 1;  // less this one
        })());
        stress::Stopwatch cs;
        runner.close();
        close_s = cs.seconds();
    }
    const double elapsed = sw.seconds();
    const std::size_t fds_after = test::open_fd_count();
    EXPECT_EQ(connected, static_cast<int>(conns));
    EXPECT_EQ(tasks_pending, 2 * conns);
    EXPECT_GE(fds_during, fds_before + 2 * conns);
    EXPECT_EQ(fds_after, fds_before) << "run() left sockets open";
    figures("Shutdown.RunWithLiveConnections",
            "connections=" + std::to_string(conns) + " pending_tasks=" + std::to_string(tasks_pending) +
                " fds_before=" + std::to_string(fds_before) + " fds_during=" + std::to_string(fds_during) +
                " fds_after=" + std::to_string(fds_after) + " close_s=" + std::to_string(close_s) +
                " elapsed_s=" + std::to_string(elapsed));
}

// ---- 100 subprocess spawns, no zombie -----------------------------------------------------

class ShutdownChildren : public stress::StressTest {};

// Our children, as the kernel lists them (/proc/self/task/*/children).
std::size_t child_count() {
    std::size_t n = 0;
    if (DIR* d = ::opendir("/proc/self/task")) {
        while (dirent* e = ::readdir(d)) {
            if (e->d_name[0] == '.') continue;
            std::ifstream f(std::string("/proc/self/task/") + e->d_name + "/children");
            std::string pid;
            while (f >> pid) ++n;
        }
        ::closedir(d);
    }
    return n;
}

const std::vector<std::string> kNoArgs;
const std::vector<std::string> kExit7{"-c", "exit 7"};
const std::vector<std::string> kSleep{"30"};

struct SpawnTally {
    int exited = 0;
    int failed = 0;
    int killed = 0;
    int dropped = 0;
};

// Four kinds of child: exits 0, exits 7, killed while it sleeps, and one whose
// Process handle is dropped without a wait (the loop still reaps it).
Coro<void> spawn_one(std::size_t i, SpawnTally* t) {
    switch (i % 4) {
        case 0: {
            Process p = co_await create_subprocess_exec("true", kNoArgs);
            int rc = co_await p.wait();
            t->exited += (rc == 0);
            break;
        }
        case 1: {
            Process p = co_await create_subprocess_exec("sh", kExit7);
            int rc = co_await p.wait();
            t->failed += (rc == 7);
            break;
        }
        case 2: {
            Process p = co_await create_subprocess_exec("sleep", kSleep);
            p.kill();
            int rc = co_await p.wait();
            t->killed += (rc == -SIGKILL);
            break;
        }
        default: {
            Process p = co_await create_subprocess_exec("true", kNoArgs);
            ++t->dropped;
            break;
        }
    }
}

TEST_F(ShutdownChildren, AHundredSpawnsAtOnceLeaveNoZombie) {
    const std::size_t spawns = scaled(100, 20);
    if (auto why = stress::fd_shortfall(4 * spawns + 64); !why.empty()) GTEST_SKIP() << why;
    ASSERT_EQ(child_count(), 0u) << "children left over from an earlier test";
    SpawnTally t;
    std::size_t children_at_end = 0;
    stress::Stopwatch sw;
    run_bounded(([&]() -> Coro<void> {
        std::vector<Coro<void>> all;
        for (std::size_t i = 0; i < spawns; ++i) all.push_back(spawn_one(i, &t));
        co_await gather(std::move(all));
        // The dropped ones are reaped by the loop, soon.
        co_await test::eventually([] { return child_count() == 0; });
        children_at_end = child_count();
    })());
    const double elapsed = sw.seconds();
    int kinds[4] = {0, 0, 0, 0};
    for (std::size_t i = 0; i < spawns; ++i) ++kinds[i % 4];
    EXPECT_EQ(t.exited, kinds[0]);
    EXPECT_EQ(t.failed, kinds[1]);
    EXPECT_EQ(t.killed, kinds[2]);
    EXPECT_EQ(t.dropped, kinds[3]);
    EXPECT_EQ(children_at_end, 0u);
    int status = 0;
    errno = 0;
    EXPECT_EQ(::waitpid(-1, &status, WNOHANG), -1) << "an unreaped child is left";
    EXPECT_EQ(errno, ECHILD);
    figures("Shutdown.Children", "spawns=" + std::to_string(spawns) + " exited0=" + std::to_string(t.exited) +
                                     " exited7=" + std::to_string(t.failed) + " killed=" + std::to_string(t.killed) +
                                     " dropped_unwaited=" + std::to_string(t.dropped) + " zombies=" +
                                     std::to_string(children_at_end) + " elapsed_s=" + std::to_string(elapsed));
}

// ---- Server.close() + wait_closed() with 1,000 live connections ----------------------------

class ShutdownServer : public stress::StressTest {};

struct Clients {
    std::vector<StreamPair> conns;
};

// Opens n connections and waits until the server has accepted them all.
Coro<void> connect_all(Server& server, std::size_t n, Clients* c) {
    std::vector<Coro<StreamPair>> opens;
    const std::uint16_t port = test::port_of(server);
    for (std::size_t i = 0; i < n; ++i) opens.push_back(open_connection("127.0.0.1", port));
    c->conns = co_await gather(std::move(opens));
    co_await test::eventually([&] { return server.connection_count() == n; });
}

// A line through the connection and back.
Coro<bool> still_echoes(StreamPair conn, std::size_t i) {
    std::string line = "still here " + std::to_string(i) + "\n";
    conn.second.write(line);
    co_await conn.second.drain();
    std::string back = co_await conn.first.readline();
    co_return back == line;
}

Coro<bool> refused(std::uint16_t port) {
    bool was_refused = false;
    try {
        auto conn = co_await open_connection("127.0.0.1", port);
    } catch (const ConnectionRefusedError&) {
        was_refused = true;
    }
    co_return was_refused;
}

// test::echo_lines, then counts itself done.
Coro<void> echo_then_count(StreamReader r, StreamWriter w, int* done) {
    co_await test::echo_lines(std::move(r), std::move(w));
    ++*done;
}

StreamOptions big_backlog(std::size_t conns) {
    StreamOptions so;
    so.server.backlog = static_cast<int>(conns) + 16;
    return so;
}

TEST_F(ShutdownServer, CloseThenWaitClosedWaitsForAThousandLiveConnectionsToLeave) {
    const std::size_t conns = scaled(1000, 20);
    if (auto why = stress::fd_shortfall(2 * conns + 64); !why.empty()) GTEST_SKIP() << why;
    std::size_t echoed = 0, count_after_close = 0;
    bool refused_after_close = false, waited_while_live = false;
    int handlers_done = 0;
    double wait_closed_s = 0;
    stress::Stopwatch sw;
    run_bounded(([&]() -> Coro<void> {
        auto handler = [&handlers_done](StreamReader r, StreamWriter w) {
            return echo_then_count(std::move(r), std::move(w), &handlers_done);
        };
        Server server = co_await start_server(handler, "127.0.0.1", 0, big_backlog(conns));
        const std::uint16_t port = test::port_of(server);
        Clients c;
        co_await connect_all(server, conns, &c);
        server.close();
        count_after_close = server.connection_count();
        refused_after_close = co_await refused(port);
        Task<void> waiter = create_task(server.wait_closed());
        // The connections still work while the server is closed.
        std::vector<Coro<bool>> checks;
        for (std::size_t i = 0; i < conns; ++i) checks.push_back(still_echoes(c.conns[i], i));
        auto oks = co_await gather(std::move(checks));
        for (bool ok : oks) echoed += ok;
        co_await sleep(0.01);
        waited_while_live = !waiter.done();
        // The clients leave; wait_closed() returns after the last one.
        for (auto& conn : c.conns) conn.second.close();
        stress::Stopwatch wc;
        co_await waiter;
        wait_closed_s = wc.seconds();
        EXPECT_EQ(server.connection_count(), 0u);
        for (auto& conn : c.conns) co_await conn.second.wait_closed();
        c.conns.clear();
        co_await test::eventually([&] { return handlers_done == static_cast<int>(conns); });
    })());
    const double elapsed = sw.seconds();
    EXPECT_EQ(count_after_close, conns) << "close() must leave the accepted connections open";
    EXPECT_TRUE(refused_after_close) << "the server still accepted after close()";
    EXPECT_EQ(echoed, conns);
    EXPECT_TRUE(waited_while_live) << "wait_closed() returned while connections were live";
    EXPECT_EQ(handlers_done, static_cast<int>(conns));
    figures("Shutdown.ServerClientsLeave", "connections=" + std::to_string(conns) +
                                               " open_after_close=" + std::to_string(count_after_close) +
                                               " echoed_after_close=" + std::to_string(echoed) +
                                               " new_connection_refused=" + (refused_after_close ? "yes" : "no") +
                                               " wait_closed_after_clients_left_s=" + std::to_string(wait_closed_s) +
                                               " elapsed_s=" + std::to_string(elapsed));
}

TEST_F(ShutdownServer, CloseClientsEndsAThousandLiveConnectionsAndWaitClosedReturns) {
    const std::size_t conns = scaled(1000, 20);
    if (auto why = stress::fd_shortfall(2 * conns + 64); !why.empty()) GTEST_SKIP() << why;
    std::size_t eofs = 0;
    int handlers_done = 0;
    double close_s = 0;
    stress::Stopwatch sw;
    run_bounded(([&]() -> Coro<void> {
        auto handler = [&handlers_done](StreamReader r, StreamWriter w) {
            return echo_then_count(std::move(r), std::move(w), &handlers_done);
        };
        Server server = co_await start_server(handler, "127.0.0.1", 0, big_backlog(conns));
        Clients c;
        co_await connect_all(server, conns, &c);
        stress::Stopwatch cs;
        server.close();
        server.close_clients();
        co_await server.wait_closed();
        close_s = cs.seconds();
        EXPECT_EQ(server.connection_count(), 0u);
        // Every client sees the end of its stream.
        for (auto& conn : c.conns) {
            std::string rest = co_await conn.first.read();
            eofs += rest.empty();
            conn.second.close();
            co_await conn.second.wait_closed();
        }
        c.conns.clear();
        co_await test::eventually([&] { return handlers_done == static_cast<int>(conns); });
    })());
    const double elapsed = sw.seconds();
    EXPECT_EQ(eofs, conns);
    EXPECT_EQ(handlers_done, static_cast<int>(conns));
    figures("Shutdown.ServerCloseClients",
            "connections=" + std::to_string(conns) + " eof_seen=" + std::to_string(eofs) +
                " close_to_wait_closed_s=" + std::to_string(close_s) + " elapsed_s=" + std::to_string(elapsed));
}

}  // namespace stress_shutdown_test
