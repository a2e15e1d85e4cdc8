// bench/echo/server_libuv.cpp — the echo server on libuv (the loop under
// Node.js and uvloop), written as a careful libuv user would: reads land in
// one shared 64 KiB buffer (alloc_cb hands out the same slab; read_cb
// consumes it before returning), uv_try_write() sends at once, and only what
// the kernel does not take is copied into a uv_write request, with reading
// stopped until it completes. C-style code, built as C++ with the rest.
// Usage: echo_libuv [port]; prints "PORT <n>" (see echo_common.hpp).
#include <uv.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "echo_common.hpp"

namespace {

char g_slab[echo::kReadSize];

struct PendingWrite {
    uv_write_t req;
    uv_buf_t buf;
    char data[1];  // flexible: the unsent bytes follow
};

void die(const char* what, int err) {
    std::fprintf(stderr, "%s: %s\n", what, uv_strerror(err));
    std::exit(1);
}

void on_alloc(uv_handle_t*, size_t, uv_buf_t* buf) { *buf = uv_buf_init(g_slab, sizeof g_slab); }

void on_close(uv_handle_t* h) { std::free(h); }

void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf);

void on_written(uv_write_t* req, int status) {
    auto* p = reinterpret_cast<PendingWrite*>(req);
    uv_stream_t* s = req->handle;
    std::free(p);
    if (status < 0) {
        if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(s))) uv_close(reinterpret_cast<uv_handle_t*>(s), on_close);
        return;
    }
    uv_read_start(s, on_alloc, on_read);
}

void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
    if (n == 0) return;  // EAGAIN
    if (n < 0) {
        uv_close(reinterpret_cast<uv_handle_t*>(s), on_close);
        return;
    }
    uv_buf_t b = uv_buf_init(buf->base, static_cast<unsigned>(n));
    int w = uv_try_write(s, &b, 1);
    if (w == n) return;
    if (w < 0 && w != UV_EAGAIN) {
        uv_close(reinterpret_cast<uv_handle_t*>(s), on_close);
        return;
    }
    size_t sent = w < 0 ? 0 : static_cast<size_t>(w);
    size_t rest = static_cast<size_t>(n) - sent;
    auto* p = static_cast<PendingWrite*>(std::malloc(sizeof(PendingWrite) + rest));
    if (!p) std::abort();
    std::memcpy(p->data, buf->base + sent, rest);
    p->buf = uv_buf_init(p->data, static_cast<unsigned>(rest));
    uv_read_stop(s);  // backpressure: read again once this is out
    int r = uv_write(&p->req, s, &p->buf, 1, on_written);
    if (r < 0) {
        std::free(p);
        uv_close(reinterpret_cast<uv_handle_t*>(s), on_close);
    }
}

void on_connection(uv_stream_t* server, int status) {
    if (status < 0) return;
    auto* c = static_cast<uv_tcp_t*>(std::malloc(sizeof(uv_tcp_t)));
    if (!c) std::abort();
    uv_tcp_init(server->loop, c);
    if (uv_accept(server, reinterpret_cast<uv_stream_t*>(c)) != 0) {
        uv_close(reinterpret_cast<uv_handle_t*>(c), on_close);
        return;
    }
    uv_tcp_nodelay(c, 1);
    uv_read_start(reinterpret_cast<uv_stream_t*>(c), on_alloc, on_read);
}

}  // namespace

int main(int argc, char** argv) {
    int port = echo::port_arg(argc, argv);
    echo::raise_nofile();
    uv_loop_t* loop = uv_default_loop();
    uv_tcp_t server;
    uv_tcp_init(loop, &server);
    sockaddr_in addr{};
    uv_ip4_addr("127.0.0.1", port, &addr);
    int r = uv_tcp_bind(&server, reinterpret_cast<const sockaddr*>(&addr), 0);
    if (r) die("bind", r);
    r = uv_listen(reinterpret_cast<uv_stream_t*>(&server), echo::kBacklog, on_connection);
    if (r) die("listen", r);
    sockaddr_in bound{};
    int len = sizeof bound;
    uv_tcp_getsockname(&server, reinterpret_cast<sockaddr*>(&bound), &len);
    echo::announce(ntohs(bound.sin_port));
    return uv_run(loop, UV_RUN_DEFAULT);
}
