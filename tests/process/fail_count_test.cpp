// The fail-count sweep and the other fault modes of tests/support/fail_count.hpp
// over subprocesses: spawn (socketpairs for the pipes, posix_spawn, a pidfd),
// communicate() through the pipes, wait().
#include <string>
#include <vector>

#include <tulip/tulip.hpp>

#include "support/fail_count.hpp"
#include "support/loop_test.hpp"
#include "support/net.hpp"

namespace process_fail_count_test {

using namespace tulip;
using test::fail_count::Scenario;

namespace {

class FailCount : public test::fail_count::FailCountTest {};

// A child that failed to start, or whose pipes failed, is killed and reaped
// by tulip; one that started is waited for here, so no run leaves a zombie.
Coro<void> reap(Process& p) {
    try {
        p.kill();
    } catch (...) {}
    (void)co_await p.wait();
}

// cat with stdin and stdout pipes: 64 kB in through communicate(), the same
// out.
TEST_F(FailCount, SpawnAndCommunicate) {
    Scenario s{[](bool& corrupt) -> Coro<void> {
        SubprocessOptions o;
        o.std_in = PIPE;
        o.std_out = PIPE;
        std::vector<std::string> no_args;  // (no braced list in a co_await: GCC 12 rejects it)
        Process p = co_await create_subprocess_exec("cat", std::move(no_args), o);
        std::string input = test::pattern(0, 65536);
        std::exception_ptr failed;
        std::optional<std::string> out;
        try {
            out = (co_await p.communicate(input)).first;
        } catch (...) {
            failed = std::current_exception();
        }
        if (failed) {
            co_await reap(p);
            std::rethrow_exception(failed);
        }
        if (!out || *out != input.substr(0, out->size())) corrupt = true;
        if (!out || out->size() != input.size()) throw std::runtime_error("short output");
        if (p.returncode() != 0) throw std::runtime_error("cat failed");
    }};
    s.short_io_limit = 512;
    sweep(s);
}

// A child with no pipes; wait() gives its exit status.
TEST_F(FailCount, SpawnAndWait) {
    sweep({[](bool& corrupt) -> Coro<void> {
        std::vector<std::string> args{"-c", "exit 3"};  // (no braced list in a co_await: GCC 12 rejects it)
        Process p = co_await create_subprocess_exec("sh", std::move(args));
        int rc = co_await p.wait();
        if (rc != 3) corrupt = true;
    }});
}

// A child's stdout read line by line.
TEST_F(FailCount, SpawnAndReadStdoutLines) {
    sweep({[](bool& corrupt) -> Coro<void> {
        SubprocessOptions o;
        o.std_out = PIPE;
        std::vector<std::string> args{"-c", "for i in 1 2 3; do echo line $i; done"};
        Process p = co_await create_subprocess_exec("sh", std::move(args), o);
        std::exception_ptr failed;
        try {
            for (int i = 1; i <= 3; ++i) {
                std::string line = co_await p.std_out->readline();
                if (line != "line " + std::to_string(i) + "\n") {
                    if (!p.std_out->at_eof()) corrupt = true;
                    throw std::runtime_error("output ended early");
                }
            }
            std::string rest = co_await p.std_out->read();
            if (!rest.empty()) corrupt = true;
        } catch (...) {
            failed = std::current_exception();
        }
        if (failed) {
            co_await reap(p);
            std::rethrow_exception(failed);
        }
        int rc = co_await p.wait();
        if (rc != 0) corrupt = true;
    }});
}

}  // namespace

}  // namespace process_fail_count_test

// The enomem mode's allocator hook, for the whole process_tests binary (it
// counts only while a sweep runs a scenario).
TULIP_FAIL_COUNT_ALLOC_HOOK();
