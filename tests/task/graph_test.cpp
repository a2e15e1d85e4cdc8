// Tests of call-graph introspection (capture_call_graph, format_call_graph,
// print_call_graph, the task dump), ported from CPython 3.14's
// test_graph.py (CallStackTestBase) where C++ has the same shape: a task's
// coroutine chain innermost first, and the tasks awaiting it through
// co_await, TaskGroup, gather, shield, wait and timeout.
#include <tulip/task/graph.hpp>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "support/loop_test.hpp"

namespace task_graph_test {

using namespace tulip;

namespace {

class GraphTest : public test::LoopTest {};

// The unqualified name of a coroutine function: "Coro<void> {anonymous}::gc4()"
// (g++) or "Coro<void> (anonymous namespace)::gc4()" (clang) -> "gc4".
std::string short_name(const std::source_location& loc) {
    std::string f = loc.function_name();
    const std::string anon = "(anonymous namespace)";
    if (auto at = f.find(anon); at != std::string::npos) f.replace(at, anon.size(), "anon");
    std::size_t paren = f.find('(');
    if (paren == std::string::npos) return f;
    std::size_t start = f.rfind(':', paren);
    std::size_t space = f.rfind(' ', paren);
    std::size_t from = std::max(start == std::string::npos ? 0 : start + 1, space == std::string::npos ? 0 : space + 1);
    return f.substr(from, paren - from);
}

// asyncio's walk() in test_graph: "T<name>" (anonymous tasks "T<anon>") or
// "F", the call stack's names, and what awaits it, sorted.
std::string walk(const FutureCallGraph& g) {
    std::string out;
    if (auto* t = g.future.state()->as_task()) {
        std::string n = detail::task_name(*t);
        out = n.rfind("Task-", 0) == 0 ? "T<anon>" : "T<" + n + ">";
    } else {
        out = "F";
    }
    out += " [";
    for (std::size_t i = 0; i < g.call_stack.size(); ++i) out += (i ? " " : "") + short_name(g.call_stack[i].frame);
    out += "] {";
    std::vector<std::string> subs;
    for (const auto& a : g.awaited_by) subs.push_back(walk(a));
    std::sort(subs.begin(), subs.end());
    for (std::size_t i = 0; i < subs.size(); ++i) out += (i ? ", " : "") + subs[i];
    return out + "}";
}

std::optional<FutureCallGraph> g_graph;
std::string g_text;

void capture_here() {
    g_graph = capture_call_graph();
    g_text = format_call_graph();
}

// ---- test_stack_task ------------------------------------------------------------

Coro<void> ginner() {
    co_await sleep(0);
    capture_here();
}
Coro<void> gc1() { co_await ginner(); }
Coro<void> gc2() {
    Task<void> t = create_task(gc1(), "there there");
    co_await t;
}
Coro<void> gmain() { co_await gc2(); }

TEST_F(GraphTest, CallStackOfATaskListsItsCoroutinesInnermostFirstAndTheTaskAwaitingIt) {
    g_graph.reset();
    run(gmain());
    ASSERT_TRUE(g_graph);
    EXPECT_EQ(walk(*g_graph), "T<there there> [ginner gc1] {T<anon> [gc2 gmain] {}}");
    EXPECT_EQ(g_text.rfind("* Task(name='there there', id=0x", 0), 0u) << g_text;
    EXPECT_NE(g_text.find("  + Call stack:\n  |   File '"), std::string::npos) << g_text;
    EXPECT_NE(g_text.find("ginner()\n"), std::string::npos) << g_text;
    EXPECT_NE(g_text.find("  + Awaited by:\n    * Task(name='Task-"), std::string::npos) << g_text;
}

// ---- test_stack_tgroup --------------------------------------------------------------

Coro<void> tc4() {
    co_await sleep(0);
    capture_here();
}
Coro<void> tc3() { co_await tc4(); }
Coro<void> tc2() { co_await tc3(); }
Coro<void> tc1(Task<void> t) { co_await t; }
Coro<void> tgroup_body(TaskGroup& tg) {
    Task<void> t = tg.create_task(tc2(), "c2_root");
    tg.create_task(tc1(t), "sub_main_1");
    tg.create_task(tc1(t), "sub_main_2");
    co_return;
}
Coro<void> tmain() { co_await task_group(tgroup_body); }

TEST_F(GraphTest, TaskGroupChildrenAreAwaitedByTheTaskThatOwnsTheGroup) {
    g_graph.reset();
    run(tmain());
    ASSERT_TRUE(g_graph);
    std::string w = walk(*g_graph);
    // The group's owner shows its own chain (the task_group scope and tmain).
    EXPECT_EQ(w.rfind("T<c2_root> [tc4 tc3 tc2] {T<anon> [", 0), 0u) << w;
    EXPECT_NE(w.find("tmain] {}, T<sub_main_1> [tc1] {T<anon> ["), std::string::npos) << w;
    EXPECT_NE(w.find("tmain] {}}, T<sub_main_2> [tc1] {T<anon> ["), std::string::npos) << w;
}

// ---- test_stack_async_gen ---------------------------------------------------------------

Coro<void> gen_nested_call() {
    capture_here();
    co_return;
}
AsyncGenerator<int> agen() {
    for (int num = 0; num < 2; ++num) {
        co_yield num;
        if (num == 1) co_await gen_nested_call();
    }
}
Coro<void> agen_main() {
    auto g = agen();
    for (;;) {
        auto el = co_await g.next();
        if (!el) break;
    }
}

TEST_F(GraphTest, AsyncGeneratorFrameShowsBetweenItsConsumerAndWhatItAwaits) {
    g_graph.reset();
    run(agen_main());
    ASSERT_TRUE(g_graph);
    EXPECT_EQ(walk(*g_graph), "T<anon> [gen_nested_call agen agen_main] {}");
    ASSERT_EQ(g_graph->call_stack.size(), 3u);
    EXPECT_TRUE(g_graph->call_stack[1].generator);
    EXPECT_FALSE(g_graph->call_stack[0].generator);
    EXPECT_NE(g_text.find(", in async generator "), std::string::npos) << g_text;
}

// ---- test_stack_gather ------------------------------------------------------------------

Coro<void> deep() {
    co_await sleep(0);
    capture_here();
}
Coro<void> gathered1() {
    co_await sleep(0);
    co_await deep();
}
Coro<void> gathered2() { co_await sleep(0); }
Coro<void> gather_main() { co_await gather(gathered1(), gathered2()); }

TEST_F(GraphTest, GatherChildrenAreAwaitedByTheTaskCallingGather) {
    g_graph.reset();
    run(gather_main());
    ASSERT_TRUE(g_graph);
    EXPECT_EQ(walk(*g_graph), "T<anon> [deep gathered1] {T<anon> [gather_main] {}}");
}

// ---- test_stack_shield ------------------------------------------------------------------------

Coro<void> shield_main() { co_await shield(gathered1()); }

TEST_F(GraphTest, ShieldedTaskIsAwaitedByTheTaskCallingShield) {
    g_graph.reset();
    run(shield_main());
    ASSERT_TRUE(g_graph);
    EXPECT_EQ(walk(*g_graph), "T<anon> [deep gathered1] {T<anon> [shield_main] {}}");
}

// ---- test_stack_timeout -----------------------------------------------------------------------

Coro<void> timeout_body(Timeout&) {
    co_await sleep(0);
    co_await deep();
}
Coro<void> timeout_c1() { co_await timeout(std::chrono::duration<double>(1.0), timeout_body); }
Coro<void> timeout_main() { co_await shield(timeout_c1()); }

TEST_F(GraphTest, TimeoutScopeStaysInTheChainOfTheTaskRunningIt) {
    g_graph.reset();
    run(timeout_main());
    ASSERT_TRUE(g_graph);
    std::string w = walk(*g_graph);
    // asyncio: [inner, c1]; tulip's timeout runs its body as a coroutine,
    // which shows between them.
    EXPECT_EQ(w.rfind("T<anon> [deep timeout_body ", 0), 0u) << w;
    EXPECT_NE(w.find(" timeout_c1] {T<anon> [timeout_main] {}}"), std::string::npos) << w;
}

// ---- test_stack_wait ---------------------------------------------------------------------------

Coro<void> waited2() {
    for (int i = 0; i < 3; ++i) co_await sleep(0);
}
Coro<void> wait_loop(Task<void> t1, Task<void> t2) {
    for (;;) {
        std::vector<Task<void>> both{t1, t2};
        auto r = co_await wait(std::move(both));
        if (r.pending.empty()) break;
    }
}
Coro<void> wait_main() {
    Task<void> t1 = create_task(timeout_c1());
    Task<void> t2 = create_task(waited2());
    co_await wait_loop(t1, t2);
}

TEST_F(GraphTest, TasksPassedToWaitAreAwaitedByTheWaitingTask) {
    g_graph.reset();
    run(wait_main());
    ASSERT_TRUE(g_graph);
    std::string w = walk(*g_graph);
    EXPECT_EQ(w.rfind("T<anon> [deep timeout_body ", 0), 0u) << w;
    EXPECT_NE(w.find(" timeout_c1] {T<anon> [wait wait_loop wait_main] {}}"), std::string::npos) << w;
}

// ---- test_stack_future ---------------------------------------------------------------------------

Coro<void> fa2(Future<void> f) { co_await f; }
Coro<void> fa1(Future<void> f) { co_await fa2(f); }
Coro<void> fb1(Future<void> f) { co_await f; }
Coro<void> future_body(TaskGroup& g) {
    Future<void> fut = create_future();
    g.create_task(fa1(fut), "task A");
    g.create_task(fb1(fut), "task B");
    for (int i = 0; i < 5; ++i) co_await sleep(0);
    g_graph = capture_call_graph(fut);
    g_text = format_call_graph(fut);
    fut.set_result();
}
Coro<void> future_main() { co_await task_group(future_body); }

TEST_F(GraphTest, FutureIsAwaitedByEveryTaskSuspendedOnIt) {
    g_graph.reset();
    run(future_main());
    ASSERT_TRUE(g_graph);
    std::string w = walk(*g_graph);
    EXPECT_EQ(w.rfind("F [] {T<task A> [fa2 fa1] {T<anon> [", 0), 0u) << w;
    EXPECT_NE(w.find("future_main] {}}, T<task B> [fb1] {T<anon> ["), std::string::npos) << w;
    EXPECT_EQ(g_text.rfind("* Future(id=0x", 0), 0u) << g_text;
}

// ---- tulip: the API's edges ------------------------------------------------------------------------

Coro<void> l3() {
    capture_here();
    co_return;
}
Coro<void> l2() { co_await l3(); }
Coro<void> l1() { co_await l2(); }

std::optional<FutureCallGraph> g_limit2, g_limit_neg1, g_limit0;
Coro<void> lim3() {
    g_limit2 = capture_call_graph(2);
    g_limit_neg1 = capture_call_graph(-1);
    g_limit0 = capture_call_graph(0);
    co_return;
}
Coro<void> lim2() { co_await lim3(); }
Coro<void> lim1() { co_await lim2(); }

TEST_F(GraphTest, LimitKeepsTheInnermostOrOutermostEntries) {
    run(l1());
    ASSERT_TRUE(g_graph);
    EXPECT_EQ(walk(*g_graph), "T<anon> [l3 l2 l1] {}");
    run(lim1());
    ASSERT_TRUE(g_limit2 && g_limit_neg1 && g_limit0);
    EXPECT_EQ(walk(*g_limit2), "T<anon> [lim3 lim2] {}");
    EXPECT_EQ(walk(*g_limit_neg1), "T<anon> [lim1] {}");
    EXPECT_EQ(walk(*g_limit0), "T<anon> [] {}");
}

TEST_F(GraphTest, CaptureOutsideATaskGivesNothingAndOutsideALoopRaises) {
    EXPECT_THROW(capture_call_graph(), std::runtime_error);
    std::optional<FutureCallGraph> from_callback{FutureCallGraph{}};
    std::string text = "x";
    loop().call_soon([&] {
        from_callback = capture_call_graph();
        text = format_call_graph();
    });
    run_briefly();
    EXPECT_FALSE(from_callback);
    EXPECT_EQ(text, "");
}

TEST_F(GraphTest, FinishedTaskHasAnEmptyCallStack) {
    auto t = loop().create_task(l2());
    run(t);
    FutureCallGraph g = capture_call_graph(t);
    EXPECT_TRUE(g.call_stack.empty());
    EXPECT_TRUE(g.awaited_by.empty());
}

TEST_F(GraphTest, CoroutineNamesComeFromTheCoroutineFunction) {
    run(l1());
    ASSERT_TRUE(g_graph);
    ASSERT_EQ(g_graph->call_stack.size(), 3u);
    const auto& e = g_graph->call_stack[0].frame;
    EXPECT_NE(std::string(e.function_name()).find("l3"), std::string::npos) << e.function_name();
    EXPECT_NE(std::string(e.file_name()).find("graph_test.cpp"), std::string::npos) << e.file_name();
    EXPECT_GT(e.line(), 0u);
}

TEST_F(GraphTest, PrintCallGraphWritesTheFormattedGraph) {
    Future<void> gate = loop().create_future<void>();
    auto t = loop().create_task(fb1(gate), "printer");
    run_briefly();
    std::FILE* f = std::tmpfile();
    ASSERT_TRUE(f);
    print_call_graph(t, f);
    std::rewind(f);
    std::string got;
    char buf[512];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, f)) got.append(buf, n);
    std::fclose(f);
    EXPECT_EQ(got, format_call_graph(t));
    EXPECT_EQ(got.rfind("* Task(name='printer'", 0), 0u) << got;
    EXPECT_NE(got.find(", in async "), std::string::npos) << got;
    gate.set_result();
    run(t);
}

TEST_F(GraphTest, DumpOfAllTasksListsEveryPendingTaskWithItsChain) {
    Future<void> gate = loop().create_future<void>();
    auto a = loop().create_task(fa1(gate), "dump-a");
    auto b = loop().create_task(fb1(gate), "dump-b");
    run_briefly();
    std::string all = format_all_tasks(loop());
    EXPECT_EQ(all.rfind("2 pending task(s)\n", 0), 0u) << all;
    EXPECT_NE(all.find("* Task(name='dump-a'"), std::string::npos) << all;
    EXPECT_NE(all.find("* Task(name='dump-b'"), std::string::npos) << all;
    EXPECT_NE(all.find("fa2"), std::string::npos) << all;

    testing::internal::CaptureStderr();
    tulip_dump_loop_tasks(&loop());
    std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(err, all);
    gate.set_result();
    run(a);
    run(b);
}

TEST_F(GraphTest, DumpFromADebuggerUsesTheLoopRunningOnTheThread) {
    std::string err = "x";
    testing::internal::CaptureStderr();
    tulip_dump_tasks();  // no loop runs: nothing
    err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(err, "");
    auto body = []() -> Coro<void> {
        tulip_dump_tasks();
        co_return;
    };
    testing::internal::CaptureStderr();
    run(body());
    err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(err.rfind("1 pending task(s)\n* Task(name='Task-", 0), 0u) << err;
}

class GraphSignalTest : public test::RealTimeLoopTest {};

TEST_F(GraphSignalTest, TaskDumpHandlerWritesTheTasksOnTheSignal) {
    Future<void> gate = loop().create_future<void>();
    auto t = loop().create_task(fb1(gate), "signalled");
    install_task_dump_handler(loop(), SIGUSR1);
    testing::internal::CaptureStderr();
    loop().call_soon([] { ::kill(::getpid(), SIGUSR1); });
    loop().call_later(0.2, [&] { gate.set_result(); });
    run(t);
    std::string err = testing::internal::GetCapturedStderr();
    EXPECT_TRUE(loop().remove_signal_handler(SIGUSR1));
    EXPECT_NE(err.find("* Task(name='signalled'"), std::string::npos) << err;
    EXPECT_NE(err.find("fb1"), std::string::npos) << err;
}

}  // namespace

namespace {

Coro<void> add_callback_and_leave(Future<void> f) {
    f.add_done_callback([] {});
    co_return;
}
Coro<void> callback_adder_main(Future<void> f) {
    co_await add_callback_and_leave(f);
    co_await sleep(0);
}

TEST_F(GraphTest, ACallbackFromATaskThatIsGoneNamesNoAwaiter) {
    Future<void> f = loop().create_future<void>();
    {
        auto t = loop().create_task(add_callback_and_leave(f), "adder");
        run(t);
    }  // the task is finished and freed; its callback stays on f
    run(callback_adder_main(f));
    FutureCallGraph g = capture_call_graph(f);
    EXPECT_EQ(walk(g), "F [] {}");
    // While the adding task lives and waits elsewhere, it is listed.
    Future<void> gate = loop().create_future<void>();
    auto waiter = [](Future<void> fut, Future<void> gt) -> Coro<void> {
        fut.add_done_callback([] {});
        co_await gt;
    };
    auto t = loop().create_task(waiter(f, gate), "waiter");
    run_briefly();
    EXPECT_EQ(walk(capture_call_graph(f)).rfind("F [] {T<waiter> [", 0), 0u) << walk(capture_call_graph(f));
    gate.set_result();
    f.set_result();
    run(t);
}

}  // namespace

}  // namespace task_graph_test
