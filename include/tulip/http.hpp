// tulip/http.hpp — the HTTP layer: an HTTP/1.1 server (aiohttp.web-like) on
// llhttp, and the pieces it is made of.
#pragma once

#include <tulip/http/application.hpp>
#include <tulip/http/date.hpp>
#include <tulip/http/exceptions.hpp>
#include <tulip/http/headers.hpp>
#include <tulip/http/mime.hpp>
#include <tulip/http/request.hpp>
#include <tulip/http/response.hpp>
#include <tulip/http/server.hpp>
#include <tulip/http/status.hpp>
#include <tulip/http/url.hpp>
