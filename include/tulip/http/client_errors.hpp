// tulip/http/client_errors.hpp — what the HTTP client throws (aiohttp's
// ClientError family: ClientConnectorError, ServerDisconnectedError,
// ClientPayloadError, ClientResponseError, TooManyRedirects, InvalidURL).
//
// Timeouts are tulip::TimeoutError, as asyncio.TimeoutError is what aiohttp's
// timeouts are caught as; cancellation is CancelledError.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <system_error>

#include <tulip/http/headers.hpp>

namespace tulip::http {

class ClientError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The connection could not be made or was lost.
class ClientConnectionError : public ClientError {
public:
    using ClientError::ClientError;
};

// Connecting to host:port failed (refused, unreachable, name not found, TLS
// handshake or certificate). os_error() is what the connect raised.
class ClientConnectorError : public ClientConnectionError {
public:
    ClientConnectorError(std::string host, unsigned port, std::exception_ptr os_error);
    const std::string& host() const noexcept { return host_; }
    unsigned port() const noexcept { return port_; }
    // The errno of an OS error (std::system_error), else an empty code.
    std::error_code code() const noexcept { return code_; }
    const std::exception_ptr& os_error() const noexcept { return os_error_; }

private:
    std::string host_;
    unsigned port_;
    std::error_code code_;
    std::exception_ptr os_error_;
};

// The server closed the connection (or reset it) before the whole response
// head arrived.
class ServerDisconnectedError : public ClientConnectionError {
public:
    using ClientConnectionError::ClientConnectionError;
};

// The response body is broken: cut short by the server, bad chunked framing,
// bad compressed data.
class ClientPayloadError : public ClientError {
public:
    using ClientError::ClientError;
};

// A response the client cannot use: a malformed head (message() says what is
// wrong, status() is 0), or raise_for_status() on a 4xx/5xx (status() is its
// status).
class ClientResponseError : public ClientError {
public:
    ClientResponseError(int status, std::string message, std::string url, Headers headers = {});
    int status() const noexcept { return status_; }
    const std::string& message() const noexcept { return message_; }
    const std::string& url() const noexcept { return url_; }
    const Headers& headers() const noexcept { return headers_; }

private:
    int status_;
    std::string message_;
    std::string url_;
    Headers headers_;
};

// More redirects than max_redirects in a row.
class TooManyRedirects : public ClientResponseError {
public:
    using ClientResponseError::ClientResponseError;
};

// A URL the client cannot request (not http/https, no host, bad characters).
class InvalidURL : public ClientError {
public:
    InvalidURL(std::string url, const std::string& why);
    const std::string& url() const noexcept { return url_; }

private:
    std::string url_;
};

}  // namespace tulip::http
