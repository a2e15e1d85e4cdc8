// The task layer's per-loop registry (see task_registry.hpp).
#include "task_registry.hpp"

namespace tulip::detail {

void TaskRegistry::on_loop_close(EventLoop& loop) noexcept { close_task_layer(loop); }

void TaskRegistry::drop_node(ReadyNode* node) noexcept {
    if (node->run == &run_done_callback) drop_done_callback(node);
}

TaskRegistry& make_task_registry(EventLoop& loop) {
    auto* r = new TaskRegistry;
    LoopAccess::set_extension(loop, r);
    return *r;
}

}  // namespace tulip::detail
