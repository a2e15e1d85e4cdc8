// The extension -> media type table behind guess_content_type.
#include <tulip/http/mime.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>

namespace tulip::http {

namespace {

// Sorted by extension (lowercase) for the binary search below; the
// static_assert after the table checks the order.
constexpr std::array<std::pair<std::string_view, std::string_view>, 67> kTypes{{
    {"7z", "application/x-7z-compressed"},
    {"atom", "application/atom+xml"},
    {"avi", "video/x-msvideo"},
    {"avif", "image/avif"},
    {"bmp", "image/bmp"},
    {"bz2", "application/x-bzip2"},
    {"cjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"eot", "application/vnd.ms-fontobject"},
    {"flac", "audio/flac"},
    {"gif", "image/gif"},
    {"gz", "application/gzip"},
    {"htm", "text/html; charset=utf-8"},
    {"html", "text/html; charset=utf-8"},
    {"ico", "image/vnd.microsoft.icon"},
    {"ics", "text/calendar; charset=utf-8"},
    {"jpeg", "image/jpeg"},
    {"jpg", "image/jpeg"},
    {"js", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"jsonld", "application/ld+json"},
    {"m4a", "audio/mp4"},
    {"map", "application/json"},
    {"md", "text/markdown; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"mkv", "video/x-matroska"},
    {"mov", "video/quicktime"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"mpeg", "video/mpeg"},
    {"mpg", "video/mpeg"},
    {"oga", "audio/ogg"},
    {"ogg", "audio/ogg"},
    {"ogv", "video/ogg"},
    {"opus", "audio/opus"},
    {"otf", "font/otf"},
    {"pdf", "application/pdf"},
    {"png", "image/png"},
    {"rss", "application/rss+xml"},
    {"rtf", "application/rtf"},
    {"svg", "image/svg+xml"},
    {"svgz", "image/svg+xml"},
    {"tar", "application/x-tar"},
    {"text", "text/plain; charset=utf-8"},
    {"tif", "image/tiff"},
    {"tiff", "image/tiff"},
    {"toml", "application/toml"},
    {"tsv", "text/tab-separated-values; charset=utf-8"},
    {"ttf", "font/ttf"},
    {"txt", "text/plain; charset=utf-8"},
    {"wasm", "application/wasm"},
    {"wav", "audio/wav"},
    {"weba", "audio/webm"},
    {"webm", "video/webm"},
    {"webmanifest", "application/manifest+json"},
    {"webp", "image/webp"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"xhtml", "application/xhtml+xml"},
    {"xml", "application/xml"},
    {"xz", "application/x-xz"},
    {"yaml", "application/yaml"},
    {"yml", "application/yaml"},
    {"zip", "application/zip"},
    {"zst", "application/zstd"},
    {"zstd", "application/zstd"},
}};

constexpr std::string_view kDefault = "application/octet-stream";
constexpr std::size_t kMaxExtension = 16;  // longer than any in the table

constexpr bool sorted() {
    for (std::size_t i = 1; i < kTypes.size(); ++i)
        if (!(kTypes[i - 1].first < kTypes[i].first)) return false;
    return true;
}
static_assert(sorted(), "kTypes must be sorted by extension");

}  // namespace

std::string_view guess_content_type(std::string_view path) noexcept {
    std::size_t slash = path.find_last_of('/');
    std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
    std::size_t dot = name.rfind('.');
    // No dot, or only the leading dot of a dot-file: no extension.
    if (dot == std::string_view::npos || dot == 0) return kDefault;
    std::string_view ext = name.substr(dot + 1);
    if (ext.empty() || ext.size() > kMaxExtension) return kDefault;
    char buf[kMaxExtension];
    for (std::size_t i = 0; i < ext.size(); ++i) {
        char c = ext[i];
        buf[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    std::string_view lower(buf, ext.size());
    auto it = std::lower_bound(kTypes.begin(), kTypes.end(), lower,
                               [](const auto& entry, std::string_view key) { return entry.first < key; });
    if (it != kTypes.end() && it->first == lower) return it->second;
    return kDefault;
}

}  // namespace tulip::http
