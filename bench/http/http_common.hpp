// bench/http/http_common.hpp — what the C++ HTTP servers share: the command
// line `<server> [--port N] [--root DIR]` (port 0: a free one; DIR holds the
// static file served under /static/), the file-descriptor limit, and the
// "PORT <n>" line that tells bench/http/run.py where a server listens.
#pragma once

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace httpbench {

inline constexpr int kBacklog = 4096;
inline constexpr const char* kHello = "Hello, World!";

struct Args {
    int port = 0;
    std::string root = ".";
    int workers = 1;  // tulip only: loops (threads), http::run_app's workers
};

inline Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            a.port = std::atoi(argv[++i]);
        } else if (std::strcmp(argv[i], "--root") == 0 && i + 1 < argc) {
            a.root = argv[++i];
        } else if (std::strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
            a.workers = std::atoi(argv[++i]);
        } else {
            std::fprintf(stderr, "usage: %s [--port N] [--root DIR] [--workers N]\n", argv[0]);
            std::exit(2);
        }
    }
    return a;
}

// The idle-connection test opens 10,000+ connections.
inline void raise_nofile() {
    rlimit r{};
    if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &r);
    }
}

inline void announce(int port) {
    std::printf("PORT %d\n", port);
    std::fflush(stdout);
}

}  // namespace httpbench
