// Async generator finalisation (asyncio: aclose(), the finalizer hook and
// loop.shutdown_asyncgens()).
#include <tulip/task/async_generator.hpp>

#include <vector>

#include "task_registry.hpp"

namespace tulip::detail {

void AsyncGenNode::register_with(EventLoop& l) noexcept {
    TaskRegistry& reg = task_registry(l);  // close() detaches us
    loop = &l;
    next = reg.asyncgens_head;
    if (next) next->prev = this;
    reg.asyncgens_head = this;
}

void AsyncGenNode::unregister() noexcept {
    if (!loop) return;
    TaskRegistry& reg = *find_task_registry(*loop);  // registered, so it is there
    if (prev)
        prev->next = next;
    else if (reg.asyncgens_head == this)
        reg.asyncgens_head = next;
    if (next) next->prev = prev;
    prev = next = nullptr;
    loop = nullptr;
}

Coro<void> aclose_node(AsyncGenNode& n) {
    if (!n.started || n.finished) co_return;
    // A consumer is inside next() and the frame is suspended in some await,
    // not at a co_yield: resuming it would resume that await early (asyncio
    // raises RuntimeError here too).
    if (n.consumer) throw std::runtime_error("aclose(): asynchronous generator is already running");
    n.closing = true;
    co_await ResumeNodeAwaiter{n};
    if (!n.finished) throw std::runtime_error("async generator ignored GeneratorExit");
    n.unregister();
    if (auto e = std::exchange(n.exc, nullptr)) {
        try {
            std::rethrow_exception(e);
        } catch (const GeneratorExit&) {
            co_return;  // the normal way out
        }
    }
}

Coro<void> finalize_dropped(std::coroutine_handle<> frame, AsyncGenNode* node) {
    struct Destroy {
        std::coroutine_handle<> f;
        ~Destroy() { f.destroy(); }
    } destroy{frame};
    // Report a failed cleanup as asyncio's finalizer does (its aclose() task
    // would otherwise surface only as "Task exception was never retrieved").
    try {
        co_await aclose_node(*node);
    } catch (const CancelledError&) {
        throw;
    } catch (...) {
        ExceptionContext ctx;
        ctx.message = "an error occurred during closing of asynchronous generator";
        ctx.exception = std::current_exception();
        get_running_loop().call_exception_handler(ctx);
    }
}

}  // namespace tulip::detail

namespace tulip {

Coro<void> shutdown_asyncgens(EventLoop& loop) {
    std::vector<detail::AsyncGenNode*> open;
    detail::TaskRegistry* reg = detail::find_task_registry(loop);
    for (auto* n = reg ? reg->asyncgens_head : nullptr; n; n = n->next)
        if (n->started && !n->finished && !n->consumer) open.push_back(n);
    for (auto* n : open) {
        try {
            co_await detail::aclose_node(*n);
        } catch (...) {
            ExceptionContext ctx;
            ctx.message = "an error occurred during closing of asynchronous generator";
            ctx.exception = std::current_exception();
            loop.call_exception_handler(ctx);
        }
    }
}

}  // namespace tulip
