// Fuzz target: the argv/envp building of create_subprocess_exec/_shell
// (src/process/spawn_args). Properties: what posix_spawn would be given
// reads back, as C strings, exactly as the caller's strings (no argument cut
// at a NUL, no variable whose name swallowed an '='); otherwise the input is
// refused with std::invalid_argument, and only when it holds such a byte.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include "../src/process/spawn_args.hpp"

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "subprocess_args: %s\n", what);
    std::abort();
}

// Splits the input at 0xff bytes: the first field says how many arguments
// (the rest are env name/value pairs; a leading 0x01 in it means "no env").
std::vector<std::string> fields(const std::uint8_t* p, std::size_t n) {
    std::vector<std::string> out(1);
    for (std::size_t i = 0; i < n; ++i) {
        if (p[i] == 0xff)
            out.emplace_back();
        else
            out.back() += static_cast<char>(p[i]);
    }
    return out;
}

bool bad(const std::string& s) { return s.find('\0') != std::string::npos; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::vector<std::string> f = fields(data, size);
    const std::string head = f.front();
    f.erase(f.begin());
    std::size_t nargs =
        head.empty() ? f.size() : std::min<std::size_t>(f.size(), static_cast<std::uint8_t>(head[0]) % 8);
    std::vector<std::string> argv(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(nargs));
    std::optional<std::map<std::string, std::string>> env;
    if (head.size() < 2 || head[1] != 1) {
        env.emplace();
        for (std::size_t i = nargs; i + 1 < f.size(); i += 2) env->emplace(f[i], f[i + 1]);
    }
    std::optional<std::string> cwd;
    if (head.size() > 2) cwd = head.substr(2);

    bool expect_refusal = argv.empty() || argv.front().empty() || (cwd && bad(*cwd));
    for (auto& a : argv) expect_refusal |= bad(a);
    if (env)
        for (auto& [k, v] : *env) expect_refusal |= bad(k) || bad(v) || k.find('=') != std::string::npos;

    std::optional<tulip::detail::SpawnArgs> built;
    try {
        built.emplace(argv, env, cwd);
    } catch (const std::invalid_argument&) {
        if (!expect_refusal) fail("refused a good argv/env");
        return 0;
    }
    if (expect_refusal) fail("accepted an argv/env that C cannot carry");

    char* const* av = built->argv();
    for (std::size_t i = 0; i < argv.size(); ++i)
        if (av[i] == nullptr || argv[i] != av[i]) fail("an argument changed");
    if (av[argv.size()] != nullptr) fail("argv is not NULL-terminated");
    if (built->program() != argv.front()) fail("the program is not argv[0]");
    if (!env) {
        if (built->envp() != environ) fail("without env, the child must inherit ours");
        return 0;
    }
    char* const* ep = built->envp();
    std::map<std::string, std::string> back;
    std::size_t i = 0;
    for (; ep[i] != nullptr; ++i) {
        const char* eq = std::strchr(ep[i], '=');
        if (eq == nullptr) fail("an environment entry without '='");
        back.emplace(std::string(ep[i], static_cast<std::size_t>(eq - ep[i])), std::string(eq + 1));
    }
    if (i != env->size() || back != *env) fail("the environment changed");
    return 0;
}
