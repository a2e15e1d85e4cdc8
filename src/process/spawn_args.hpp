// src/process/spawn_args.hpp — internal: the argv and envp arrays that
// posix_spawn takes, built from a subprocess's strings and checked as
// CPython's subprocess checks them: a NUL inside an argument, a variable's
// name or value, or the cwd, or an '=' in a name, is std::invalid_argument
// (Python's ValueError); passed on, C would cut the string at the NUL or
// read the name wrong, and the child would run with other arguments than
// the caller wrote.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tulip::detail {

class SpawnArgs {
public:
    SpawnArgs(std::vector<std::string> argv, const std::optional<std::map<std::string, std::string>>& env,
              const std::optional<std::string>& cwd);
    SpawnArgs(const SpawnArgs&) = delete;
    SpawnArgs& operator=(const SpawnArgs&) = delete;

    // NULL-terminated, valid while this object lives.
    char* const* argv() noexcept { return argv_.data(); }
    // Ours (environ) when no env was given.
    char* const* envp() noexcept;
    const std::string& program() const noexcept { return strings_.front(); }

private:
    std::vector<std::string> strings_;  // the arguments, then "name=value" for each variable
    std::vector<char*> argv_;
    std::vector<char*> envp_;
    bool own_env_ = false;
};

}  // namespace tulip::detail
