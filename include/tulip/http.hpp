// tulip/http.hpp — HTTP/1.1 (aiohttp-like; issue 12). Parsing is llhttp's,
// compiled into libtulip.
//
//   http/headers.hpp  Headers (case-insensitive, multi-valued, in order), header_contains_token
#pragma once

#include <tulip/http/headers.hpp>
#include <tulip/process.hpp>
