// tulip/http.hpp — the HTTP layer: an HTTP/1.1 server (aiohttp.web-like) and
// client (aiohttp.ClientSession-like) on llhttp (compiled into libtulip),
// and the pieces they are made of. JSON
// helpers are opt-in: <tulip/http/json.hpp> (nlohmann::json).
#pragma once

#include <tulip/http/application.hpp>
#include <tulip/http/client_errors.hpp>
#include <tulip/http/client_response.hpp>
#include <tulip/http/client_session.hpp>
#include <tulip/http/cookie_jar.hpp>
#include <tulip/http/date.hpp>
#include <tulip/http/exceptions.hpp>
#include <tulip/http/fetch.hpp>
#include <tulip/http/form_data.hpp>
#include <tulip/http/headers.hpp>
#include <tulip/http/mime.hpp>
#include <tulip/http/request.hpp>
#include <tulip/http/response.hpp>
#include <tulip/http/server.hpp>
#include <tulip/http/status.hpp>
#include <tulip/http/url.hpp>
#include <tulip/process.hpp>
