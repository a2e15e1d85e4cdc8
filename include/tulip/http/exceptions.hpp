// tulip/http/exceptions.hpp — HTTPException (aiohttp's web.HTTPException and
// its subclasses HTTPNotFound, HTTPBadRequest, ...).
//
// A handler (or middleware) throws one to answer with that status: the
// server turns it into a response whose body is `text` (or the status's
// reason phrase). Any other exception from a handler becomes a 500 whose
// body says nothing about it; the exception goes to the loop's exception
// handler.
#pragma once

#include <stdexcept>
#include <string>

#include <tulip/http/headers.hpp>

namespace tulip::http {

class HTTPException : public std::runtime_error {
public:
    // status: 400..599 (what an error response can be). text: the body; empty
    // for "<status> <reason phrase>".
    explicit HTTPException(int status, std::string text = {});
    int status() const noexcept { return status_; }
    const std::string& text() const noexcept { return text_; }
    // Headers for the response (Allow for a 405, WWW-Authenticate, ...).
    Headers& headers() noexcept { return headers_; }
    const Headers& headers() const noexcept { return headers_; }

private:
    int status_;
    std::string text_;
    Headers headers_;
};

}  // namespace tulip::http
