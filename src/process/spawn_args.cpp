#include "spawn_args.hpp"

#include <unistd.h>

#include <stdexcept>
#include <string_view>

namespace tulip::detail {

namespace {

void no_nul(std::string_view s, const char* what) {
    if (s.find('\0') != std::string_view::npos)
        throw std::invalid_argument(std::string("embedded null byte in ") + what);
}

}  // namespace

SpawnArgs::SpawnArgs(std::vector<std::string> argv, const std::optional<std::map<std::string, std::string>>& env,
                     const std::optional<std::string>& cwd)
    : strings_(std::move(argv)) {
    if (strings_.empty() || strings_.front().empty())
        throw std::invalid_argument("create_subprocess: empty program name");
    for (auto& a : strings_) no_nul(a, "a subprocess argument");
    if (cwd) no_nul(*cwd, "the subprocess's cwd");
    const std::size_t nargs = strings_.size();
    if (env) {
        own_env_ = true;
        strings_.reserve(nargs + env->size());
        for (auto& [name, value] : *env) {
            no_nul(name, "an environment variable's name");
            no_nul(value, "an environment variable's value");
            // The child would read "A=B" + "=" + "C" as variable A.
            if (name.find('=') != std::string::npos)
                throw std::invalid_argument("illegal environment variable name '" + name + "'");
            strings_.push_back(name + "=" + value);
        }
    }
    // Pointers only once strings_ no longer grows.
    argv_.reserve(nargs + 1);
    for (std::size_t i = 0; i < nargs; ++i) argv_.push_back(strings_[i].data());
    argv_.push_back(nullptr);
    if (own_env_) {
        envp_.reserve(strings_.size() - nargs + 1);
        for (std::size_t i = nargs; i < strings_.size(); ++i) envp_.push_back(strings_[i].data());
        envp_.push_back(nullptr);
    }
}

char* const* SpawnArgs::envp() noexcept { return own_env_ ? envp_.data() : environ; }

}  // namespace tulip::detail
