// bench/http/client_tulip.cpp — the HTTP client benchmark's tulip side (see
// bench/http/client_run.py): N GETs over C pooled keep-alive connections of
// one ClientSession, C tasks each requesting in turn until N are done; or,
// with --idle, the memory a pooled idle connection costs.
//
// Prints one JSON line: {"requests", "seconds", "cpu_s", "errors"} or
// {"idle_base", "idle", "rss_before", "rss_after", "per_conn"}.
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <tulip/tulip.hpp>

namespace {

using namespace tulip;

struct Args {
    std::string url;
    long requests = 100000;
    int conns = 100;
    long idle = 0;
    long idle_base = 1000;
};

double cpu_now() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

long rss_bytes() {
    std::ifstream f("/proc/self/statm");
    long size = 0, resident = 0;
    f >> size >> resident;
    return resident * sysconf(_SC_PAGESIZE);
}

Coro<void> worker(http::ClientSession& session, const std::string& url, long& left, long& errors) {
    while (left > 0) {
        --left;
        try {
            http::ClientResponse r = co_await session.get(url);
            std::string body = co_await r.read();
            if (r.status() != 200 || body.empty()) ++errors;
        } catch (const std::exception&) {
            ++errors;
        }
    }
}

Coro<int> load(Args a) {
    http::ClientSessionOptions o;
    o.limit = static_cast<std::size_t>(a.conns);
    o.auto_decompress = false;  // as wrk: no Accept-Encoding
    http::ClientSession session(std::move(o));
    long left = a.requests, errors = 0;
    EventLoop& loop = get_running_loop();
    // One request first: the connect and the first-use costs stay out of the timing.
    {
        http::ClientResponse r = co_await session.get(a.url);
        (void)co_await r.read();
    }
    const double t0 = loop.time(), c0 = cpu_now();
    std::vector<Task<void>> tasks;
    for (int i = 0; i < a.conns; ++i) tasks.push_back(create_task(worker(session, a.url, left, errors)));
    for (auto& t : tasks) co_await t;
    const double t1 = loop.time(), c1 = cpu_now();
    co_await session.close();
    std::printf("{\"requests\": %ld, \"seconds\": %.6f, \"cpu_s\": %.4f, \"errors\": %ld, \"connections\": %zu}\n",
                a.requests, t1 - t0, c1 - c0, errors, session.connections_made());
    co_return errors == 0 ? 0 : 1;
}

// n requests at once, each holding its connection (body unread) until all
// have their response, so that each has a connection of its own; then every
// body is read and the n connections stay idle in the pool.
Coro<long> open_idle(http::ClientSession& session, const std::string& url, long n) {
    std::vector<Task<std::string>> tasks;
    Event all_in;
    long heads = 0;
    auto one = [&session, &url, &all_in, &heads, n]() -> Coro<std::string> {
        http::ClientResponse r = co_await session.get(url);
        if (++heads == n) all_in.set();
        co_await all_in.wait();
        co_return co_await r.read();
    };
    for (long i = 0; i < n; ++i) tasks.push_back(create_task(one()));
    long failed = 0;
    for (auto& t : tasks) {
        try {
            (void)co_await t;
        } catch (const std::exception&) {
            ++failed;
        }
    }
    co_return failed;
}

Coro<int> idle(Args a) {
    http::ClientSessionOptions o;
    o.limit = 0;
    o.keepalive_timeout = 600;
    http::ClientSession session(std::move(o));
    long failed = co_await open_idle(session, a.url, a.idle_base);
    co_await sleep(0.2);
    // What the requests' frames and buffers used is free again but still in
    // the heap: hand it back, so that RSS counts what the idle pool keeps.
    malloc_trim(0);
    const long before = rss_bytes();
    const std::size_t heap_before = mallinfo2().uordblks;  // bytes allocated and not freed
    const std::size_t idle_before = session.idle_count();
    failed += co_await open_idle(session, a.url, a.idle);
    co_await sleep(0.2);
    malloc_trim(0);
    const long after = rss_bytes();
    const std::size_t heap_after = mallinfo2().uordblks;
    const std::size_t added = session.idle_count() - idle_before;
    // The second batch reuses the first's idle connections before opening
    // new ones: the growth is that of the connections added.
    const double n = added ? static_cast<double>(added) : 1.0;
    std::printf(
        "{\"idle_base\": %ld, \"idle\": %zu, \"rss_before\": %ld, \"rss_after\": %ld, \"per_conn\": %.0f, "
        "\"heap_per_conn\": %.0f, \"failed\": %ld}\n",
        a.idle_base, added, before, after, static_cast<double>(after - before) / n,
        (static_cast<double>(heap_after) - static_cast<double>(heap_before)) / n, failed);
    co_await session.close();
    co_return failed == 0 && added > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    Args a;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string k = argv[i], v = argv[i + 1];
        if (k == "--url")
            a.url = v;
        else if (k == "--requests")
            a.requests = std::atol(v.c_str());
        else if (k == "--conns")
            a.conns = std::atoi(v.c_str());
        else if (k == "--idle")
            a.idle = std::atol(v.c_str());
        else if (k == "--idle-base")
            a.idle_base = std::atol(v.c_str());
        else {
            std::fprintf(stderr, "usage: %s --url URL [--requests N --conns C | --idle N --idle-base N]\n", argv[0]);
            return 2;
        }
    }
    if (a.url.empty()) {
        std::fprintf(stderr, "--url is required\n");
        return 2;
    }
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    return a.idle > 0 ? tulip::run(idle(a)) : tulip::run(load(a));
}
