// shell_commands.cpp — run several shell commands at once and collect their output.
//
// The asyncio original (docs: "Subprocesses"):
//
//     async def run(cmd):                      # run_command() below
//         proc = await asyncio.create_subprocess_shell(
//             cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
//         stdout, stderr = await proc.communicate()
//         print(f'[{cmd!r} exited with {proc.returncode}]')
//         ...
//
//     async def main():
//         await asyncio.gather(run('ls /zzz'), run('sleep 1; echo "hello"'))
//
// Each command is a child process running /bin/sh -c "<cmd>"; its stdout and
// stderr are pipes the loop reads without blocking. gather() runs them all at
// the same time and returns their results in argument order, so the report
// below comes out in a fixed order even though the commands finish in another.
// Two of them sleep 0.2 s: together they take about 0.2 s, not 0.4 s.
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <tulip/tulip.hpp>

#include "examples.hpp"

namespace {

struct Result {
    std::string cmd;
    int returncode = 0;
    std::string out, err;
};

tulip::Coro<Result> run_command(std::string cmd) {
    tulip::SubprocessOptions options;
    options.std_out = tulip::PIPE;
    options.std_err = tulip::PIPE;
    tulip::Process proc = co_await tulip::create_subprocess_shell(cmd, options);
    auto [out, err] = co_await proc.communicate();  // reads both pipes to EOF, then waits for the exit
    Result r;
    r.cmd = std::move(cmd);
    r.returncode = proc.returncode().value();  // known once communicate() returned
    r.out = std::move(out).value();            // both were PIPE: never nullopt
    r.err = std::move(err).value();
    co_return r;
}

// Prints text indented, one line at a time.
void print_block(const char* label, const std::string& text) {
    if (text.empty()) return;
    std::printf("  [%s]\n", label);
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t eol = text.find('\n', start);
        if (eol == std::string::npos) eol = text.size();
        std::printf("    %.*s\n", static_cast<int>(eol - start), text.data() + start);
        start = eol + 1;
    }
}

tulip::Coro<int> amain() {
    auto& loop = tulip::get_running_loop();
    const std::vector<std::string> commands = {
        "echo hello",
        "sleep 0.2; echo 'slept 0.2 s'",
        "sleep 0.2; printf 'one\\ntwo\\nthree\\n' | wc -l",
        "echo 'something went wrong' >&2; exit 3",
    };
    std::vector<tulip::Coro<Result>> runs;
    for (const auto& cmd : commands) runs.push_back(run_command(cmd));

    double start = loop.time();
    std::vector<Result> results = co_await tulip::gather(std::move(runs));
    std::printf("%zu commands, run side by side, took %.1f s in all\n", results.size(), loop.time() - start);

    for (const Result& r : results) {
        std::printf("[%s] exited with %d\n", r.cmd.c_str(), r.returncode);
        print_block("stdout", r.out);
        print_block("stderr", r.err);
    }
    bool ok = results.size() == 4 && results[0].out == "hello\n" && results[1].out == "slept 0.2 s\n" &&
              results[2].out == "3\n" && results[3].returncode == 3 && results[3].err == "something went wrong\n";
    co_return ok ? 0 : 1;
}

}  // namespace

int examples::shell_commands() { return tulip::run(amain()); }

#ifndef TULIP_DEMO
int main() { return examples::shell_commands(); }
#endif
