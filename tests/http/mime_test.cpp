// Tests of guess_content_type: the table, case-insensitivity, what counts as
// an extension, and the octet-stream fallback.
#include <tulip/http/mime.hpp>

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace http_mime_test {

using namespace tulip::http;

namespace {

struct Case {
    std::string_view path;
    std::string_view type;
};

constexpr std::string_view kOctet = "application/octet-stream";

constexpr Case kCases[] = {
    {"index.html", "text/html; charset=utf-8"},
    {"index.htm", "text/html; charset=utf-8"},
    {"style.css", "text/css; charset=utf-8"},
    {"app.js", "text/javascript; charset=utf-8"},
    {"mod.mjs", "text/javascript; charset=utf-8"},
    {"data.json", "application/json"},
    {"notes.txt", "text/plain; charset=utf-8"},
    {"feed.xml", "application/xml"},
    {"logo.svg", "image/svg+xml"},
    {"a.png", "image/png"},
    {"a.jpg", "image/jpeg"},
    {"a.jpeg", "image/jpeg"},
    {"a.gif", "image/gif"},
    {"a.webp", "image/webp"},
    {"favicon.ico", "image/vnd.microsoft.icon"},
    {"m.wasm", "application/wasm"},
    {"doc.pdf", "application/pdf"},
    {"a.zip", "application/zip"},
    {"a.gz", "application/gzip"},
    {"a.tar", "application/x-tar"},
    {"v.mp4", "video/mp4"},
    {"v.webm", "video/webm"},
    {"s.mp3", "audio/mpeg"},
    {"s.wav", "audio/wav"},
    {"s.ogg", "audio/ogg"},
    {"f.woff", "font/woff"},
    {"f.woff2", "font/woff2"},
    {"f.ttf", "font/ttf"},
    {"f.otf", "font/otf"},
    {"t.csv", "text/csv; charset=utf-8"},
    {"README.md", "text/markdown; charset=utf-8"},
    {"app.js.map", "application/json"},
    {"site.webmanifest", "application/manifest+json"},
    {"x.zst", "application/zstd"},
    // Case-insensitive extensions.
    {"INDEX.HTML", "text/html; charset=utf-8"},
    {"Photo.JpG", "image/jpeg"},
    {"F.WOFF2", "font/woff2"},
    // Paths: only the last segment's last extension counts.
    {"/static/css/site.css", "text/css; charset=utf-8"},
    {"/a.b/c.d/e.png", "image/png"},
    {"archive.tar.gz", "application/gzip"},
    {"/dir.html/file", kOctet},
    {"/dir.html/", kOctet},
    // No extension, dot-files, empty extension, unknown.
    {"", kOctet},
    {"Makefile", kOctet},
    {".bashrc", kOctet},
    {"/x/.css", kOctet},
    {"name.", kOctet},
    {"/", kOctet},
    {".", kOctet},
    {"..", kOctet},
    {"a.unknownext", kOctet},
    {"a.exe", kOctet},
    {"a.htmlx", kOctet},
    {"a.htm l", kOctet},
};

TEST(Mime, Table) {
    for (const auto& c : kCases) EXPECT_EQ(guess_content_type(c.path), c.type) << c.path;
}

TEST(Mime, LongOrOddExtensionsFallBack) {
    EXPECT_EQ(guess_content_type("a." + std::string(10000, 'x')), kOctet);
    EXPECT_EQ(guess_content_type("a." + std::string(16, 'h')), kOctet);
    EXPECT_EQ(guess_content_type(std::string_view("a.\0\xff", 4)), kOctet);
    EXPECT_EQ(guess_content_type(std::string_view("a\0.png", 6)), "image/png");
}

TEST(Mime, TextTypesCarryACharset) {
    for (const auto& c : kCases) {
        std::string_view got = guess_content_type(c.path);
        if (got.substr(0, 5) == "text/") {
            EXPECT_NE(got.find("; charset=utf-8"), std::string_view::npos) << c.path;
        }
    }
}

}  // namespace

}  // namespace http_mime_test
