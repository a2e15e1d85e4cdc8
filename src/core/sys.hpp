// src/core/sys.hpp — the syscall seam (internal). Every raw syscall that can
// fail on a peer's or the kernel's account goes through here, so tests can
// inject EINTR, EAGAIN, short I/O, ECONNRESET, EMFILE... via a hook.
#pragma once

#include <sys/epoll.h>

namespace tulip::detail::sys {

// A test hook: when set, called before each syscall with its name; a non-zero
// return is taken as that errno and the syscall is not made.
using FaultHook = int (*)(const char* syscall_name);
extern FaultHook fault_hook;

int epoll_wait(int epfd, epoll_event* events, int maxevents, int timeout_ms);

}  // namespace tulip::detail::sys
