// src/http/client_errors.cpp — see client_errors.hpp.
#include <tulip/http/client_errors.hpp>

#include <tulip/core/exceptions.hpp>

namespace tulip::http {

namespace {
std::string connector_what(const std::string& host, unsigned port, const std::exception_ptr& e) {
    return "cannot connect to " + host + ":" + std::to_string(port) + ": " + describe_exception(e);
}
std::error_code code_of(const std::exception_ptr& e) {
    try {
        if (e) std::rethrow_exception(e);
    } catch (const std::system_error& se) {
        return se.code();
    } catch (...) {}
    return {};
}
}  // namespace

ClientConnectorError::ClientConnectorError(std::string host, unsigned port, std::exception_ptr os_error)
    : ClientConnectionError(connector_what(host, port, os_error)), host_(std::move(host)), port_(port),
      code_(code_of(os_error)), os_error_(std::move(os_error)) {}

ClientResponseError::ClientResponseError(int status, std::string message, std::string url, Headers headers)
    : ClientError(status ? std::to_string(status) + ", message='" + message + "', url='" + url + "'"
                         : message + (url.empty() ? "" : " (" + url + ")")),
      status_(status), message_(std::move(message)), url_(std::move(url)), headers_(std::move(headers)) {}

InvalidURL::InvalidURL(std::string url, const std::string& why)
    : ClientError("invalid URL '" + url + "': " + why), url_(std::move(url)) {}

}  // namespace tulip::http
