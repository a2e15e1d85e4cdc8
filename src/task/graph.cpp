// Call graphs: walks a task's coroutine chain (CoroPromiseBase::awaiting, from
// its root) and the waiters linked into a future's callback list.
#include <tulip/task/graph.hpp>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <stdexcept>
#include <unordered_set>

#include <tulip/loop/event_loop.hpp>
#include <tulip/task/coro.hpp>
#include <tulip/task/task.hpp>

#include "task_registry.hpp"

namespace tulip {

namespace {

void apply_limit(std::vector<FrameCallGraphEntry>& st, std::optional<int> limit) {
    if (!limit) return;
    std::size_t keep = static_cast<std::size_t>(*limit < 0 ? -static_cast<long>(*limit) : *limit);
    if (keep >= st.size()) return;
    if (*limit > 0)
        st.resize(keep);  // the innermost entries, closest to where it waits
    else
        st.erase(st.begin(), st.end() - static_cast<long>(keep));  // the outermost
}

struct Walk {
    std::optional<int> limit;
    // The futures above this one, so that tasks awaiting each other in a
    // cycle (a deadlock) end the walk instead of recursing forever.
    std::vector<detail::FutureStateBase*> path;
    // The loop's pending tasks. A done callback's node records the task
    // that added it, which may have finished and been freed since (a gather
    // whose caller went away): only a task still in this set is followed.
    std::unordered_set<const detail::TaskBase*> live;
};

Walk make_walk(EventLoop& loop, std::optional<int> limit) {
    Walk w{limit, {}, {}};
    if (detail::TaskRegistry* reg = detail::find_task_registry(loop))
        for (detail::TaskBase* t = reg->tasks_head; t; t = t->next_task) w.live.insert(t);
    return w;
}

FutureCallGraph build(detail::FutureStateBase* s, Walk& w) {
    std::optional<int> limit = w.limit;
    auto& path = w.path;
    FutureCallGraph g{FutureBase(s), {}, {}};
    if (detail::FrameLink* p = s->root_promise()) {
        for (; p; p = p->awaiting) g.call_stack.push_back(FrameCallGraphEntry{p->where, p->generator});
        std::reverse(g.call_stack.begin(), g.call_stack.end());  // innermost first, as asyncio
        apply_limit(g.call_stack, limit);
    }
    path.push_back(s);
    for (detail::ReadyNode* n = s->callbacks.head; n; n = detail::NodeQueue::next_of(n)) {
        detail::TaskBase* waiter = nullptr;
        if (n->run == &detail::run_task_step) {
            waiter = static_cast<detail::TaskBase*>(n);  // suspended on s with co_await
        } else if (n->run == &detail::run_done_callback) {
            auto* cb = static_cast<detail::DoneCallbackNode*>(static_cast<detail::CallbackNode*>(n));
            auto* t = static_cast<detail::TaskBase*>(cb->added_by_task);  // gather, wait, TaskGroup...
            if (cb->future && w.live.count(t)) waiter = t;
        }
        if (!waiter || waiter->fut->done()) continue;
        bool seen = false;
        for (auto* q : path) seen = seen || q == waiter->fut;
        if (seen) continue;
        bool listed = false;  // one entry per awaiting task
        for (auto& a : g.awaited_by) listed = listed || a.future.state() == waiter->fut;
        if (!listed) g.awaited_by.push_back(build(waiter->fut, w));
    }
    path.pop_back();
    return g;
}

void render(const FutureCallGraph& g, std::string& out, int level) {
    std::string indent(static_cast<std::size_t>(level) * 4, ' ');
    char id[32];
    std::snprintf(id, sizeof id, "%#lx", reinterpret_cast<unsigned long>(g.future.state()));
    if (detail::TaskBase* t = g.future.state()->as_task())
        out += indent + "* Task(name='" + detail::task_name(*t) + "', id=" + id + ")\n";
    else
        out += indent + "* Future(id=" + id + ")\n";
    if (!g.call_stack.empty()) {
        out += indent + "  + Call stack:\n";
        for (const auto& e : g.call_stack)
            out += indent + "  |   File '" + e.frame.file_name() + "', line " + std::to_string(e.frame.line()) +
                   (e.generator ? ", in async generator " : ", in async ") + e.frame.function_name() + "\n";
    }
    if (!g.awaited_by.empty()) {
        out += indent + "  + Awaited by:\n";
        for (const auto& a : g.awaited_by) render(a, out, level + 1);
    }
}

void write_all(std::FILE* f, const std::string& s) {
    std::fwrite(s.data(), 1, s.size(), f);
    std::fflush(f);
}

}  // namespace

FutureCallGraph capture_call_graph(const FutureBase& future, std::optional<int> limit) {
    if (!future) throw std::invalid_argument("capture_call_graph: an empty future handle");
    Walk w = make_walk(*future.state()->loop, limit);
    return build(future.state(), w);
}

std::optional<FutureCallGraph> capture_call_graph(std::optional<int> limit) {
    if (!detail::running_loop())
        throw std::runtime_error(
            "capture_call_graph() is called outside of a running event loop and no future to introspect was provided");
    AnyTask t = current_task();
    if (!t) return std::nullopt;
    return capture_call_graph(t, limit);
}

std::string format_call_graph(const FutureBase& future, std::optional<int> limit) {
    std::string out;
    render(capture_call_graph(future, limit), out, 0);
    return out;
}

std::string format_call_graph(std::optional<int> limit) {
    auto g = capture_call_graph(limit);
    std::string out;
    if (g) render(*g, out, 0);
    return out;
}

void print_call_graph(const FutureBase& future, std::FILE* file, std::optional<int> limit) {
    write_all(file, format_call_graph(future, limit));
}

void print_call_graph(std::FILE* file, std::optional<int> limit) { write_all(file, format_call_graph(limit)); }

std::string format_all_tasks(EventLoop& loop) {
    std::vector<AnyTask> tasks = all_tasks(loop);
    std::string out = std::to_string(tasks.size()) + " pending task(s)\n";
    for (const AnyTask& t : tasks) {
        // Each task alone: its own stack and what awaits it.
        Walk w = make_walk(loop, std::nullopt);
        render(build(t.state(), w), out, 0);
    }
    return out;
}

void install_task_dump_handler(EventLoop& loop, int sig) {
    EventLoop* l = &loop;
    loop.add_signal_handler(sig, [l] { write_all(stderr, format_all_tasks(*l)); });
}

}  // namespace tulip

extern "C" void tulip_dump_loop_tasks(void* loop) {
    if (!loop) return;
    try {
        tulip::write_all(stderr, tulip::format_all_tasks(*static_cast<tulip::EventLoop*>(loop)));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tulip_dump_tasks: %s\n", e.what());
    }
}

extern "C" void tulip_dump_tasks(void) { tulip_dump_loop_tasks(tulip::detail::running_loop()); }
