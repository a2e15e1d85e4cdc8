// src/http/exceptions.cpp — HTTPException.
#include <tulip/http/exceptions.hpp>

#include <tulip/http/status.hpp>

namespace tulip::http {

namespace {
std::string describe(int status) {
    if (status < 400 || status > 599)
        throw std::invalid_argument("HTTPException needs an error status (400..599), not " + std::to_string(status));
    std::string s = "HTTP " + std::to_string(status);
    std::string_view r = reason_phrase(status);
    if (!r.empty()) {
        s += ' ';
        s += r;
    }
    return s;
}
}  // namespace

HTTPException::HTTPException(int status, std::string text)
    : std::runtime_error(describe(status)), status_(status), text_(std::move(text)) {}

}  // namespace tulip::http
