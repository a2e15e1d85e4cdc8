// tests/stress/stress.hpp — what the stress tests share (the reliability
// program's parts 4, 6 and 7): sizes that scale with TULIP_STRESS_SCALE, a
// hash computed on both ends of a stream, fd/RSS figures from /proc, raising
// RLIMIT_NOFILE, and one line of figures per test.
//
// The figures in the tests are the full ones (1,000 connections, 128 MiB, ...);
// each is multiplied by TULIP_STRESS_SCALE (default kDefaultScale, so that CI
// stays quick) and never drops below a floor that still exercises the path.
// scripts/stress.sh runs them with TULIP_STRESS_SCALE=1 on a release build.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "support/loop_test.hpp"

namespace tulip::stress {

// CI's default: a fiftieth of the full figures (see docs/reliability.md).
inline constexpr double kDefaultScale = 0.02;

inline double scale() {
    static const double s = [] {
        const char* e = std::getenv("TULIP_STRESS_SCALE");
        if (!e || !*e) return kDefaultScale;
        char* end = nullptr;
        double v = std::strtod(e, &end);
        return (end != e && v > 0) ? v : kDefaultScale;
    }();
    return s;
}

inline bool full_scale() { return scale() >= 1.0; }

// full * scale, at least `floor` (and never more than full * scale rounded).
inline std::size_t scaled(std::size_t full, std::size_t floor) {
    auto n = static_cast<std::size_t>(static_cast<double>(full) * scale() + 0.5);
    return n < floor ? floor : n;
}

// FNV-1a, 64 bits, fed in pieces: the same bytes in any chunking give the
// same value.
struct Fnv1a {
    std::uint64_t h = 0xcbf29ce484222325ull;
    void update(std::string_view d) noexcept {
        for (unsigned char c : d) {
            h ^= c;
            h *= 0x100000001b3ull;
        }
    }
    std::uint64_t value() const noexcept { return h; }
};

// A cheap deterministic byte source (xorshift64*), seeded per connection so
// that no two connections send the same bytes.
struct ByteSource {
    std::uint64_t s;
    explicit ByteSource(std::uint64_t seed) : s(seed * 0x9e3779b97f4a7c15ull + 1) {}
    std::uint64_t next() noexcept {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        return s * 0x2545f4914f6cdd1dull;
    }
    void fill(std::string& out, std::size_t n) {
        out.resize(n);
        for (std::size_t i = 0; i < n; i += 8) {
            std::uint64_t v = next();
            for (std::size_t k = 0; k < 8 && i + k < n; ++k) out[i + k] = static_cast<char>((v >> (8 * k)) & 0xff);
        }
    }
};

// Resident set size from /proc/self/statm (pages in RAM now).
inline std::size_t rss_bytes() {
    std::ifstream f("/proc/self/statm");
    std::size_t size = 0, resident = 0;
    f >> size >> resident;
    return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

// Peak RSS (VmHWM in /proc/self/status), and a reset of it (Linux 4.0+:
// writing 5 to clear_refs); the reset may be refused, then the peak is the
// process's.
inline std::size_t peak_rss_bytes() {
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind("VmHWM:", 0) == 0) {
            std::istringstream in(line.substr(6));
            std::size_t kb = 0;
            in >> kb;
            return kb * 1024;
        }
    }
    return 0;
}
inline void reset_peak_rss() {
    std::ofstream f("/proc/self/clear_refs");
    f << "5";
}

inline double mib(std::size_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

// Raises RLIMIT_NOFILE's soft limit to its hard one; false (and why) when
// that is still below `need`.
inline bool raise_nofile(std::size_t need, std::string* why) {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        *why = "getrlimit(RLIMIT_NOFILE) failed";
        return false;
    }
    if (rl.rlim_cur < rl.rlim_max) {
        rlimit up = rl;
        up.rlim_cur = rl.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &up) == 0) rl = up;
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        *why = "RLIMIT_NOFILE is " + std::to_string(rl.rlim_cur) + " (hard " + std::to_string(rl.rlim_max) +
               "), the test needs " + std::to_string(need) + " fds";
        return false;
    }
    return true;
}

// Empty if `need` fds can be opened (after raising the soft limit), else why
// not: `if (auto why = stress::fd_shortfall(n); !why.empty()) GTEST_SKIP() << why;`
inline std::string fd_shortfall(std::size_t need) {
    std::string why;
    return raise_nofile(need, &why) ? std::string() : why;
}

inline bool under_sanitizer() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return true;
#else
    return false;
#endif
}

// Wall time since construction, in seconds.
struct Stopwatch {
    std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
    double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); }
};

// One line of figures per test, on stdout: "[stress] <test>: key=value ...".
inline void figures(const std::string& test, const std::string& text) {
    std::printf("[stress] %s (scale %g, poller %s): %s\n", test.c_str(), scale(),
                std::getenv("TULIP_POLLER") ? std::getenv("TULIP_POLLER") : "default", text.c_str());
    std::fflush(stdout);
}

// Upper bound on a stress scenario: generous, so that it never fires on a
// slow machine but a hang still fails. Real time; the CTest timeout is 120 s.
inline constexpr std::chrono::seconds kStressBound{100};

// IoLoopTest with a longer bound than the loopback one.
class StressTest : public test::IoLoopTest {
protected:
    template <class A>
    decltype(auto) run_bounded(A&& a) {
        try {
            return run(wait_for(std::forward<A>(a), kStressBound));
        } catch (...) {
            cancel_all_tasks(*loop_);
            loop_->run_until_complete(tulip::shutdown_default_executor(*loop_));
            loop_->close();
            throw;
        }
    }
};

}  // namespace tulip::stress
