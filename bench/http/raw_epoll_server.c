/* bench/http/raw_epoll_server.c — the floor: an HTTP responder on a bare
 * epoll loop, one thread, written as one would in C. Edge-triggered,
 * non-blocking. Parsing is the minimum: every "\r\n\r\n" ends a request
 * (no bodies); a request line starting "GET /static/" gets the file given
 * by --root DIR (file64k, read into memory once), anything else the fixed
 * "Hello, World!" keep-alive response. Pipelined requests are answered in
 * order from one read: the responses are gathered and sent with one send().
 * What the kernel does not take waits in a per-connection buffer.
 * Usage: http_epoll [--port N] [--root DIR]; prints "PORT <n>". */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_SIZE 65536

static const char HELLO[] =
    "HTTP/1.1 200 OK\r\nServer: epoll\r\nContent-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 13\r\n\r\nHello, World!";

struct conn {
    int fd;
    char *in; /* an unfinished request (headers not yet complete), or NULL */
    size_t in_len;
    char *out; /* bytes the kernel did not take, or NULL */
    size_t out_len, out_off;
};

static char g_buf[READ_SIZE];
static char *g_file; /* the whole file response: headers and body */
static size_t g_file_len;
static char *g_resp; /* this round's responses */
static size_t g_resp_len, g_resp_cap;
static int g_ep;

static void die(const char *what) {
    perror(what);
    exit(1);
}

static void append(char **buf, size_t *len, size_t *cap, const char *p, size_t n) {
    if (*len + n > *cap) {
        size_t c = *cap ? *cap : 4096;
        while (c < *len + n) c *= 2;
        *buf = realloc(*buf, c);
        if (!*buf) die("realloc");
        *cap = c;
    }
    memcpy(*buf + *len, p, n);
    *len += n;
}

static void load_file(const char *root) {
    char path[4096];
    snprintf(path, sizeof path, "%s/file64k", root);
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        g_file = NULL; /* no file: /static/ gets the hello response */
        if (fd >= 0) close(fd);
        return;
    }
    char head[256];
    int h = snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nServer: epoll\r\nContent-Type: application/octet-stream\r\n"
                     "Content-Length: %lld\r\n\r\n",
                     (long long)st.st_size);
    g_file_len = (size_t)h + (size_t)st.st_size;
    g_file = malloc(g_file_len);
    if (!g_file) die("malloc");
    memcpy(g_file, head, (size_t)h);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, g_file + h + got, (size_t)st.st_size - got);
        if (r <= 0) die("read");
        got += (size_t)r;
    }
    close(fd);
}

static void close_conn(struct conn *c) {
    close(c->fd); /* also leaves the epoll set */
    free(c->in);
    free(c->out);
    free(c);
}

/* Sends what is pending. 0: all sent; 1: the kernel is full (EPOLLOUT will
 * say when to go on); -1: the connection is gone. */
static int flush_out(struct conn *c) {
    while (c->out) {
        ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            return (errno == EAGAIN || errno == EWOULDBLOCK) ? 1 : -1;
        }
        c->out_off += (size_t)w;
        if (c->out_off == c->out_len) {
            free(c->out);
            c->out = NULL;
            c->out_len = c->out_off = 0;
        }
    }
    return 0;
}

/* Sends g_resp, keeping what the kernel refuses. -1: the connection is gone. */
static int send_resp(struct conn *c) {
    size_t off = 0;
    if (!c->out) {
        while (off < g_resp_len) {
            ssize_t w = send(c->fd, g_resp + off, g_resp_len - off, MSG_NOSIGNAL);
            if (w < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) break;
                return -1;
            }
            off += (size_t)w;
        }
    }
    if (off < g_resp_len) {
        size_t cap = c->out_len; /* appended after what still waits */
        append(&c->out, &c->out_len, &cap, g_resp + off, g_resp_len - off);
    }
    return 0;
}

/* Answers every complete request in data[0, n); returns how many bytes were
 * consumed (the rest is an unfinished request). */
static size_t answer(const char *data, size_t n) {
    size_t start = 0;
    for (;;) {
        const char *end = memmem(data + start, n - start, "\r\n\r\n", 4);
        if (!end) return start;
        if (g_file && n - start > 12 && memcmp(data + start, "GET /static/", 12) == 0)
            append(&g_resp, &g_resp_len, &g_resp_cap, g_file, g_file_len);
        else
            append(&g_resp, &g_resp_len, &g_resp_cap, HELLO, sizeof HELLO - 1);
        start = (size_t)(end - data) + 4;
    }
}

/* Reads until EAGAIN (edge-triggered). -1: close the connection. */
static int on_readable(struct conn *c) {
    for (;;) {
        ssize_t r = recv(c->fd, g_buf, sizeof g_buf, 0);
        if (r == 0) return -1;
        if (r < 0) {
            if (errno == EINTR) continue;
            return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
        }
        g_resp_len = 0;
        if (c->in) { /* rare: a request split across reads */
            size_t cap = c->in_len;
            append(&c->in, &c->in_len, &cap, g_buf, (size_t)r);
            if (c->in_len > 65536) return -1;
            size_t used = answer(c->in, c->in_len);
            if (used == c->in_len) {
                free(c->in);
                c->in = NULL;
                c->in_len = 0;
            } else if (used > 0) {
                memmove(c->in, c->in + used, c->in_len - used);
                c->in_len -= used;
            }
        } else {
            size_t used = answer(g_buf, (size_t)r);
            if (used < (size_t)r) {
                size_t cap = 0;
                append(&c->in, &c->in_len, &cap, g_buf + used, (size_t)r - used);
            }
        }
        if (g_resp_len > 0 && send_resp(c) < 0) return -1;
        if ((size_t)r < sizeof g_buf) return 0; /* short read: the socket is drained */
    }
}

int main(int argc, char **argv) {
    int port = 0;
    const char *root = ".";
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (strcmp(argv[i], "--root") == 0 && i + 1 < argc)
            root = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--port N] [--root DIR]\n", argv[0]);
            return 2;
        }
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    load_file(root);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0) die("socket");
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0) die("bind");
    if (listen(lfd, 4096) < 0) die("listen");
    socklen_t sl = sizeof sa;
    getsockname(lfd, (struct sockaddr *)&sa, &sl);
    g_ep = epoll_create1(EPOLL_CLOEXEC);
    if (g_ep < 0) die("epoll_create1");
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.ptr = NULL; /* NULL: the listener */
    if (epoll_ctl(g_ep, EPOLL_CTL_ADD, lfd, &ev) < 0) die("epoll_ctl");
    printf("PORT %d\n", ntohs(sa.sin_port));
    fflush(stdout);
    struct epoll_event events[256];
    for (;;) {
        int n = epoll_wait(g_ep, events, 256, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; ++i) {
            struct conn *c = events[i].data.ptr;
            if (!c) {
                for (;;) {
                    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0) break; /* EAGAIN, or out of fds: try at the next event */
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    c = calloc(1, sizeof *c);
                    if (!c) die("calloc");
                    c->fd = fd;
                    struct epoll_event cev;
                    memset(&cev, 0, sizeof cev);
                    cev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
                    cev.data.ptr = c;
                    if (epoll_ctl(g_ep, EPOLL_CTL_ADD, fd, &cev) < 0) die("epoll_ctl");
                }
                continue;
            }
            unsigned e = events[i].events;
            if (e & (EPOLLERR | EPOLLHUP)) {
                close_conn(c);
                continue;
            }
            if ((e & EPOLLOUT) && flush_out(c) < 0) {
                close_conn(c);
                continue;
            }
            if ((e & (EPOLLIN | EPOLLRDHUP)) && on_readable(c) < 0) close_conn(c);
        }
    }
}
