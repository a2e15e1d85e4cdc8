#include <tulip/core/exceptions.hpp>

#include <cxxabi.h>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <system_error>
#include <typeinfo>

namespace tulip {

ExceptionGroup::ExceptionGroup(std::string msg, std::vector<std::exception_ptr> excs)
    : msg_(std::move(msg)), excs_(std::move(excs)) {
    // Python prints "msg (N sub-exceptions)"; we add the first few for logs.
    what_ = msg_ + " (" + std::to_string(excs_.size()) + (excs_.size() == 1 ? " sub-exception)" : " sub-exceptions)");
    for (std::size_t i = 0; i < excs_.size() && i < 3; ++i) what_ += "; " + describe_exception(excs_[i]);
}

namespace {
std::string demangle(const std::type_info& ti) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> p(abi::__cxa_demangle(ti.name(), nullptr, nullptr, &status), std::free);
    return status == 0 && p ? std::string(p.get()) : std::string(ti.name());
}
}  // namespace

std::string describe_exception(const std::exception_ptr& e) {
    if (!e) return "None";
    try {
        std::rethrow_exception(e);
    } catch (const CancelledError& c) {
        return c.message().empty() ? "CancelledError" : "CancelledError: " + c.message();
    } catch (const std::exception& x) {
        return demangle(typeid(x)) + ": " + x.what();
    } catch (...) {
        auto* t = abi::__cxa_current_exception_type();
        return t ? demangle(*t) : std::string("unknown exception");
    }
}

std::exception_ptr make_os_error(int err, const std::string& what) {
    std::error_code ec(err, std::generic_category());
    switch (err) {
        case ECONNRESET:
            return std::make_exception_ptr(ConnectionResetError(ec, what));
        case ECONNREFUSED:
            return std::make_exception_ptr(ConnectionRefusedError(ec, what));
        case ECONNABORTED:
            return std::make_exception_ptr(ConnectionAbortedError(ec, what));
        case EPIPE:
        case ESHUTDOWN:
            return std::make_exception_ptr(BrokenPipeError(ec, what));
        default:
            return std::make_exception_ptr(std::system_error(ec, what));
    }
}

void throw_os_error(int err, const std::string& what) { std::rethrow_exception(make_os_error(err, what)); }

}  // namespace tulip
