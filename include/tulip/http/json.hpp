// tulip/http/json.hpp — JSON bodies with nlohmann::json (Debian's
// nlohmann-json3-dev): aiohttp's request.json() and web.json_response() for
// the server; ClientResponse.json() and the json= argument for the client.
//
// Header-only and opt-in: only a program that includes this header needs
// nlohmann's headers (the rest of tulip does not use them).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include <tulip/http/client_errors.hpp>
#include <tulip/http/client_response.hpp>
#include <tulip/http/client_session.hpp>
#include <tulip/http/exceptions.hpp>
#include <tulip/http/request.hpp>
#include <tulip/http/response.hpp>
#include <tulip/task/coro.hpp>

namespace tulip::http {

// The request body parsed as JSON; a body that is not JSON is the client's
// error: HTTPException 400 naming where it broke.
inline Coro<nlohmann::json> read_json(Request& request) {
    std::string body = co_await request.read();
    try {
        co_return nlohmann::json::parse(body);
    } catch (const nlohmann::json::parse_error& e) {
        throw HTTPException(400, std::string("malformed JSON: ") + e.what() + "\n");
    }
}

// A JSON response. Strings that are not valid UTF-8 are sent with U+FFFD in
// place of the bad bytes rather than failing the response.
inline Response json_response(const nlohmann::json& value, int status = 200) {
    return Response::json(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), status);
}

// The response body parsed as JSON (aiohttp's `await resp.json()`); a body
// that is not JSON throws ClientPayloadError naming where it broke.
inline Coro<nlohmann::json> read_json(ClientResponse response) {
    std::string body = co_await response.read();
    try {
        co_return nlohmann::json::parse(body);
    } catch (const nlohmann::json::parse_error& e) {
        throw ClientPayloadError(std::string("malformed JSON in the response: ") + e.what());
    }
}

// A request's JSON body (aiohttp's json= argument): Content-Type
// application/json unless the request sets its own.
inline void set_json(RequestOptions& options, const nlohmann::json& value) {
    options.json = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace tulip::http
