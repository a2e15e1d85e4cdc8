// tulip/task/outcome.hpp — Outcome<T>: a value or the exception that replaced
// it. What gather(return_exceptions, ...) returns for each child, where
// asyncio returns the exception object in place of the result.
#pragma once

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include <tulip/core/exceptions.hpp>

namespace tulip {

template <class T>
class Outcome {
public:
    Outcome(std::exception_ptr e) : error_(std::move(e)) {}
    template <class U = T, class = std::enable_if_t<!std::is_same_v<std::decay_t<U>, std::exception_ptr>>>
    Outcome(U&& v) : value_(std::forward<U>(v)) {}

    bool has_value() const noexcept { return value_.has_value(); }
    explicit operator bool() const noexcept { return has_value(); }
    // The value; rethrows the stored exception if there is none.
    T& value() & {
        if (error_) std::rethrow_exception(error_);
        return *value_;
    }
    T&& value() && {
        if (error_) std::rethrow_exception(error_);
        return std::move(*value_);
    }
    const std::exception_ptr& error() const noexcept { return error_; }
    // True if the child was cancelled (its exception is a CancelledError).
    bool cancelled() const;

private:
    std::optional<T> value_;
    std::exception_ptr error_;
};

template <>
class Outcome<void> {
public:
    Outcome() = default;
    Outcome(std::exception_ptr e) : error_(std::move(e)) {}
    bool has_value() const noexcept { return !error_; }
    explicit operator bool() const noexcept { return has_value(); }
    void value() const {
        if (error_) std::rethrow_exception(error_);
    }
    const std::exception_ptr& error() const noexcept { return error_; }
    bool cancelled() const;

private:
    std::exception_ptr error_;
};

namespace detail {
inline bool is_cancelled_error(const std::exception_ptr& e) {
    if (!e) return false;
    try {
        std::rethrow_exception(e);
    } catch (const CancelledError&) {
        return true;
    } catch (...) {
        return false;
    }
}
}  // namespace detail

template <class T>
bool Outcome<T>::cancelled() const {
    return detail::is_cancelled_error(error_);
}
inline bool Outcome<void>::cancelled() const { return detail::is_cancelled_error(error_); }

}  // namespace tulip
