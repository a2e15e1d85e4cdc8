// bench/tls/tls_common.hpp — what the C++ TLS servers of the benchmark share:
// the command line and the settings every server context gets.
//
// Every server: `<server> --cert C --key K [--sink] [port]` listens on
// 127.0.0.1:port (0: a free port) with TLS 1.3 only, the suite
// TLS_AES_128_GCM_SHA256 only and no session tickets (each handshake in the
// handshake test is a full one, and no server spends time minting tickets),
// prints "PORT <n>" and serves until killed. Default: an echo; --sink: reads
// and drops everything, closing at the client's close_notify/EOF (the bulk
// test). Backlog, TCP_NODELAY, the read size: as bench/echo (echo_common.hpp).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "../echo/echo_common.hpp"

namespace tlsbench {

inline constexpr const char* kSuite = "TLS_AES_128_GCM_SHA256";

struct Args {
    std::string cert, key;
    bool sink = false;
    int port = 0;
};

inline Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--cert") == 0 && i + 1 < argc)
            a.cert = argv[++i];
        else if (std::strcmp(argv[i], "--key") == 0 && i + 1 < argc)
            a.key = argv[++i];
        else if (std::strcmp(argv[i], "--sink") == 0)
            a.sink = true;
        else if (argv[i][0] != '-')
            a.port = std::atoi(argv[i]);
        else
            a.cert.clear(), i = argc;
    }
    if (a.cert.empty() || a.key.empty()) {
        std::fprintf(stderr, "usage: %s --cert C --key K [--sink] [port]\n", argv[0]);
        std::exit(2);
    }
    return a;
}

}  // namespace tlsbench
