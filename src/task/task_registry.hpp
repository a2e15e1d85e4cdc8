// The task layer's per-loop state: the live tasks (all_tasks, and what close()
// destroys), the async generators not yet finished (shutdown_asyncgens), the
// task factory and the task ids. The loop keeps it in its one LoopExtension
// slot and knows nothing more of it; close() calls on_loop_close().
#pragma once

#include <cstddef>
#include <cstdint>

#include <tulip/loop/loop_access.hpp>
#include <tulip/task/task.hpp>

namespace tulip::detail {

struct AsyncGenNode;

class TaskRegistry final : public LoopExtension {
public:
    // Intrusive list of live tasks, newest first.
    TaskBase* tasks_head = nullptr;
    std::size_t task_count = 0;
    std::uint64_t next_task_id = 1;
    // Async generators that started and have not finished.
    AsyncGenNode* asyncgens_head = nullptr;
    TaskFactory task_factory;

    // At close: destroys the tasks still pending and detaches the async
    // generators, which may outlive the loop (close_task_layer in task.cpp).
    void on_loop_close(EventLoop& loop) noexcept override;
    // A future's done-callback dropped from the ready queue releases its
    // captures and its future; a task step is left to on_loop_close.
    void drop_node(ReadyNode* node) noexcept override;
};

// The loop's registry, made on first use. The slot is the cache: one load and
// a test on the path every create_task takes.
TaskRegistry& make_task_registry(EventLoop& loop);
inline TaskRegistry& task_registry(EventLoop& loop) {
    if (LoopExtension* e = LoopAccess::extension(loop)) [[likely]]
        return *static_cast<TaskRegistry*>(e);
    return make_task_registry(loop);
}
// Without making one (nullptr: no task or generator was ever registered).
inline TaskRegistry* find_task_registry(const EventLoop& loop) noexcept {
    return static_cast<TaskRegistry*>(LoopAccess::extension(loop));
}

}  // namespace tulip::detail
