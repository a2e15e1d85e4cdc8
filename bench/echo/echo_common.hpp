// bench/echo/echo_common.hpp — what the C++ echo servers share: the command
// line, the file-descriptor limit, and the line that tells bench/echo/run.py
// which port a server listens on.
//
// Every server: `<server> [port]` listens on 127.0.0.1:port (0: a free port),
// with a backlog of kBacklog, sets TCP_NODELAY on every accepted connection
// (asyncio and tulip do so by default), prints "PORT <n>" on stdout once it
// accepts connections, and serves until it is killed. Connections are echoed
// byte for byte; a reset from the peer is not an error worth a message.
#pragma once

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>

namespace echo {

// The listen backlog of every server (the kernel caps it at somaxconn, 4096 here).
inline constexpr int kBacklog = 4096;
// The read size of every server that reads into a buffer of its own.
inline constexpr int kReadSize = 64 * 1024;

// Raises the soft RLIMIT_NOFILE to the hard limit (the idle-connection test
// opens 11,000 connections).
inline void raise_nofile() {
    rlimit r{};
    if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &r);
    }
}

inline int port_arg(int argc, char** argv) {
    if (argc > 2) {
        std::fprintf(stderr, "usage: %s [port]\n", argv[0]);
        std::exit(2);
    }
    return argc == 2 ? std::atoi(argv[1]) : 0;
}

inline void announce(int port) {
    std::printf("PORT %d\n", port);
    std::fflush(stdout);
}

}  // namespace echo
