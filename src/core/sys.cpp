#include "sys.hpp"

#include <cerrno>

namespace tulip::detail::sys {

FaultHook fault_hook = nullptr;

namespace {
inline bool inject(const char* name) {
    if (!fault_hook) return false;
    if (int err = fault_hook(name)) {
        errno = err;
        return true;
    }
    return false;
}
}  // namespace

int epoll_wait(int epfd, epoll_event* events, int maxevents, int timeout_ms) {
    if (inject("epoll_wait")) return -1;
    return ::epoll_wait(epfd, events, maxevents, timeout_ms);
}

}  // namespace tulip::detail::sys
