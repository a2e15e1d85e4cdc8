// tulip/core/exceptions.hpp — the exception types of asyncio (asyncio/exceptions.py).
//
// Python's built-ins map to the standard library so a C++ `catch` works:
// ValueError -> std::invalid_argument, RuntimeError -> std::runtime_error,
// OSError -> std::system_error. CancelledError deliberately does NOT derive
// from std::exception, so `catch (const std::exception&)` cannot swallow a
// cancellation (asyncio moved it to BaseException in 3.8 for the same reason).
#pragma once

#include <cstddef>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace tulip {

// The operation was cancelled (asyncio.CancelledError). Outside std::exception.
class CancelledError {
public:
    CancelledError() = default;
    explicit CancelledError(std::string msg) : msg_(std::move(msg)) {}
    const std::string& message() const noexcept { return msg_; }
    const char* what() const noexcept { return msg_.empty() ? "CancelledError" : msg_.c_str(); }

private:
    std::string msg_;
};

// Ctrl-C interrupted run() (Python's KeyboardInterrupt). Like CancelledError
// it is not a std::exception, so generic handlers do not swallow it.
class KeyboardInterrupt {
public:
    const char* what() const noexcept { return "KeyboardInterrupt"; }
};

// A Future or Task was used in a state that does not allow the call
// (asyncio.InvalidStateError), e.g. set_result() on a done Future.
class InvalidStateError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A deadline passed (asyncio.TimeoutError, an alias of the built-in since 3.11).
class TimeoutError : public std::runtime_error {
public:
    TimeoutError() : std::runtime_error("TimeoutError") {}
    using std::runtime_error::runtime_error;
};

// readexactly()/readuntil() met EOF first; `partial` holds what was read.
class IncompleteReadError : public std::runtime_error {
public:
    IncompleteReadError(std::string partial_bytes, std::optional<std::size_t> expected_bytes)
        : std::runtime_error(describe(partial_bytes.size(), expected_bytes)), partial(std::move(partial_bytes)),
          expected(expected_bytes) {}
    std::string partial;
    std::optional<std::size_t> expected;  // nullopt: "undefined" as in asyncio

private:
    static std::string describe(std::size_t got, std::optional<std::size_t> want) {
        return std::to_string(got) + " bytes read on a total of " +
               (want ? std::to_string(*want) : std::string("undefined")) + " expected bytes";
    }
};

// readuntil() could not find the separator within the stream's limit;
// `consumed` bytes are still in the buffer and may be read.
class LimitOverrunError : public std::runtime_error {
public:
    LimitOverrunError(const std::string& msg, std::size_t consumed_bytes)
        : std::runtime_error(msg), consumed(consumed_bytes) {}
    std::size_t consumed;
};

class QueueEmpty : public std::runtime_error {
public:
    QueueEmpty() : std::runtime_error("QueueEmpty") {}
};
class QueueFull : public std::runtime_error {
public:
    QueueFull() : std::runtime_error("QueueFull") {}
};
class QueueShutDown : public std::runtime_error {
public:
    QueueShutDown() : std::runtime_error("QueueShutDown") {}
};
class BrokenBarrierError : public std::runtime_error {
public:
    BrokenBarrierError() : std::runtime_error("BrokenBarrierError") {}
};

// sendfile(2) cannot be used for this socket or file and the fallback was
// refused (asyncio.SendfileNotAvailableError, a RuntimeError).
class SendfileNotAvailableError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Several failures raised together (Python's ExceptionGroup), e.g. by TaskGroup.
// exceptions() holds every failure as the very object that was thrown.
class ExceptionGroup : public std::exception {
public:
    ExceptionGroup(std::string msg, std::vector<std::exception_ptr> excs);
    const char* what() const noexcept override { return what_.c_str(); }
    const std::string& message() const noexcept { return msg_; }
    const std::vector<std::exception_ptr>& exceptions() const noexcept { return excs_; }

private:
    std::string msg_;
    std::string what_;
    std::vector<std::exception_ptr> excs_;
};

// OSError and the subclasses people catch (Python's ConnectionError family).
// All are std::system_error carrying the errno in code().
class ConnectionError : public std::system_error {
public:
    using std::system_error::system_error;
};
class ConnectionResetError : public ConnectionError {
public:
    using ConnectionError::ConnectionError;
};
class ConnectionRefusedError : public ConnectionError {
public:
    using ConnectionError::ConnectionError;
};
class ConnectionAbortedError : public ConnectionError {
public:
    using ConnectionError::ConnectionError;
};
class BrokenPipeError : public ConnectionError {
public:
    using ConnectionError::ConnectionError;
};
// Builds the most specific error for errno `err` ("what: strerror").
std::exception_ptr make_os_error(int err, const std::string& what);
[[noreturn]] void throw_os_error(int err, const std::string& what);

// A short human-readable description of any stored exception ("TimeoutError: ...").
std::string describe_exception(const std::exception_ptr& e);

}  // namespace tulip
