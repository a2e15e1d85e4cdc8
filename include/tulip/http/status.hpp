// tulip/http/status.hpp — HTTP status codes: the reason phrase of each
// registered code, and which responses carry no body.
#pragma once

#include <string_view>

namespace tulip::http {

// The reason phrase of a status code: every code of the IANA registry from
// 100 to 511 (RFC 9110's wording, e.g. 413 "Content Too Large") plus 418;
// "" for any other number.
std::string_view reason_phrase(int status) noexcept;

// Whether a response with this status, to a request with this method, has
// content (RFC 9110 6.4.1, RFC 9112 6.3): 1xx, 204 and 304 never do, nor does
// any response to HEAD, nor a 2xx to CONNECT (the connection becomes a
// tunnel). Methods are case-sensitive, as RFC 9110 9.1 says.
constexpr bool status_has_body(int status, std::string_view method = "GET") noexcept {
    if (method == "HEAD") return false;
    if (method == "CONNECT" && status >= 200 && status < 300) return false;
    if (status >= 100 && status < 200) return false;
    return status != 204 && status != 304;
}

}  // namespace tulip::http
