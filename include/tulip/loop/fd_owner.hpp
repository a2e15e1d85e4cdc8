// tulip/loop/fd_owner.hpp — detail::FdOwner: a transport's claim on its file
// descriptor (asyncio's loop._transports and _ensure_fd_no_transport).
//
// A transport registers itself with LoopAccess::set_fd_owner(loop, fd, this)
// for its life; while it is not closing, the loop's public add_reader,
// add_writer, remove_reader and remove_writer refuse that fd with
// std::runtime_error, so user code cannot silently replace or detach the
// transport's own watchers.
// The transports watch their fd through the unchecked LoopAccess::watch_*.
#pragma once

#include <string>

namespace tulip::detail {

class FdOwner {
public:
    // Names the transport in the error ("SocketTransport fd=7 ...").
    virtual std::string fd_owner_name() const = 0;
    // A closing transport no longer holds its fd against others (asyncio).
    virtual bool fd_owner_closing() const noexcept = 0;

protected:
    FdOwner() = default;
    ~FdOwner() = default;
};

}  // namespace tulip::detail
