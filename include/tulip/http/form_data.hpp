// tulip/http/form_data.hpp — http::FormData, a multipart/form-data request
// body (aiohttp's FormData, RFC 7578): text fields and files, each a part
// with its name, an optional filename and Content-Type.
//
//     http::FormData form;
//     form.add_field("title", "holiday");
//     form.add_file("photo", "/tmp/tulips.jpg", "image/jpeg");
//     http::RequestOptions o;
//     o.multipart = std::move(form);
//     co_await session.post(url, std::move(o));
//
// Fields are held in memory; files are read in parts while the body is sent
// (its length is known from their sizes, so it goes out with Content-Length).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <tulip/task/async_generator.hpp>

namespace tulip::http {

class FormData {
public:
    // A boundary of 32 random hex digits.
    FormData();

    // A text field (or any bytes); content_type empty: none is sent (the
    // receiver reads text/plain).
    void add_field(std::string name, std::string value, std::string content_type = {}, std::string filename = {});
    // A file, read when the body is sent. filename empty: the path's last
    // component; content_type empty: guessed from the extension (mime.hpp).
    void add_file(std::string name, std::string path, std::string content_type = {}, std::string filename = {});

    const std::string& boundary() const noexcept { return boundary_; }
    // "multipart/form-data; boundary=...".
    std::string content_type() const;
    bool has_files() const noexcept;
    // The body's length (stats the files: throws std::system_error naming a
    // file that is missing).
    std::uint64_t content_length() const;
    // The whole body (reads the files).
    std::string encode() const;
    // The body in parts: each part's head, its value or the file in 64 KiB
    // pieces, the closing boundary.
    AsyncGenerator<std::string> stream() const;

private:
    struct Part {
        std::string name, value, path, content_type, filename;
        bool is_file = false;
    };
    std::string head_of(const Part& p) const;
    std::string boundary_;
    std::vector<Part> parts_;
};

}  // namespace tulip::http
