// tulip/task/graph.hpp — call-graph introspection (asyncio.capture_call_graph,
// format_call_graph, print_call_graph; Python 3.14's asyncio/graph.py), and a
// dump of every live task for debuggers and signals.
//
// A task's call stack is its chain of coroutines, innermost first: each Coro
// knows which Coro it is suspended on (one pointer, set and cleared by
// co_await), and where its function is (std::source_location, captured when
// the coroutine is created: the function's name, file and first line; C++
// cannot tell the line it is suspended at). "Awaited by" lists the tasks
// waiting for a future or task: those suspended on it with co_await, and
// those that added a done callback to it from inside a task, which is how
// gather, wait, shield and TaskGroup wait for their children.
//
// An async generator iterated with co_await gen.next() shows in the chain
// of the task iterating it, as asyncio's `async for` does.
// Differences from asyncio: no synchronous frames (asyncio shows the Python
// functions on top of the current task's stack; `depth` has no counterpart);
// a Future that a plain callback waits for has no "awaited by" for it.
// Thread safety: the loop's thread only (the dump functions: see below).
#pragma once

#include <cstdio>
#include <optional>
#include <source_location>
#include <string>
#include <vector>

#include <tulip/task/future.hpp>

namespace tulip {

class EventLoop;

// One coroutine of a call stack (asyncio's FrameCallGraphEntry).
struct FrameCallGraphEntry {
    std::source_location frame;  // function_name(), file_name(), line() of the coroutine function
    bool generator = false;      // an async generator's frame ("async generator" in the rendering)
};

// A future or task, its call stack (innermost first, empty for a plain
// Future or a finished task) and the graphs of what awaits it.
struct FutureCallGraph {
    FutureBase future;
    std::vector<FrameCallGraphEntry> call_stack;
    std::vector<FutureCallGraph> awaited_by;
};

// limit (asyncio 3.14): each call stack keeps at most |limit| entries, the
// innermost ones if limit > 0, the outermost if < 0; 0 keeps none.

// The current task's graph; nullopt when no task runs. std::runtime_error
// when no loop runs on this thread.
std::optional<FutureCallGraph> capture_call_graph(std::optional<int> limit = std::nullopt);
// The graph of `future` (a Future or a Task).
FutureCallGraph capture_call_graph(const FutureBase& future, std::optional<int> limit = std::nullopt);

// The graph rendered as asyncio renders it ("* Task(name='...', id=0x...)",
// "  + Call stack:", "  |   File '...', line N, in async f()", "  + Awaited
// by:", each level indented by four spaces); "" when there is no current task.
std::string format_call_graph(std::optional<int> limit = std::nullopt);
std::string format_call_graph(const FutureBase& future, std::optional<int> limit = std::nullopt);

// format_call_graph(...) written to `file` (asyncio: print, default stdout).
void print_call_graph(std::FILE* file = stdout, std::optional<int> limit = std::nullopt);
void print_call_graph(const FutureBase& future, std::FILE* file = stdout, std::optional<int> limit = std::nullopt);

// Every pending task of `loop` with its call graph, one after the other.
std::string format_all_tasks(EventLoop& loop);

// Opt-in: on signal `sig` (SIGUSR1 by default) the loop writes
// format_all_tasks to stderr, through loop.add_signal_handler (so it runs on
// the loop's thread, between callbacks). Undo with loop.remove_signal_handler.
void install_task_dump_handler(EventLoop& loop, int sig = 10 /* SIGUSR1 */);

}  // namespace tulip

// For debuggers (gdb: `call tulip_dump_tasks()`): writes every pending task of
// the loop running on the calling thread to stderr; nothing when none runs.
// tulip_dump_loop_tasks does it for a given EventLoop*. Both allocate: call
// them with the program stopped (a debugger), never from a signal handler
// (for signals, use install_task_dump_handler).
extern "C" void tulip_dump_tasks(void);
extern "C" void tulip_dump_loop_tasks(void* loop);
