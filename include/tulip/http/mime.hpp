// tulip/http/mime.hpp — the Content-Type of a file, guessed from its name's
// extension (what static file serving sends).
#pragma once

#include <string_view>

namespace tulip::http {

// The media type for a file name or path, by the extension of its last
// segment, case-insensitively ("/static/App.JS" -> "text/javascript;
// charset=utf-8"). text/* types carry "; charset=utf-8". A name without an
// extension, a dot-file such as ".bashrc", or an unknown extension gives
// "application/octet-stream". Only the last extension counts: "a.tar.gz" is
// "application/gzip" (the bytes served are gzip).
std::string_view guess_content_type(std::string_view path) noexcept;

}  // namespace tulip::http
