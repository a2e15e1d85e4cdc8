// src/http/form_data.cpp — see form_data.hpp.
#include <tulip/http/form_data.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <random>
#include <stdexcept>

#include <tulip/core/exceptions.hpp>
#include <tulip/http/mime.hpp>

namespace tulip::http {

namespace {

// RFC 7578 4.2 / HTML's form encoding: '"' and CR/LF in a name or filename
// are percent-encoded, so the header cannot be broken out of.
std::string quoted(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"')
            out += "%22";
        else if (c == '\r')
            out += "%0D";
        else if (c == '\n')
            out += "%0A";
        else
            out += c;
    }
    return out + "\"";
}

std::uint64_t size_of(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) throw_os_error(errno, "cannot upload " + path);
    if (!S_ISREG(st.st_mode)) throw std::invalid_argument("cannot upload " + path + ": not a regular file");
    return static_cast<std::uint64_t>(st.st_size);
}

struct Fd {
    int fd;
    explicit Fd(const std::string& path) : fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
        if (fd < 0) throw_os_error(errno, "cannot upload " + path);
    }
    Fd(const Fd&) = delete;
    ~Fd() { ::close(fd); }
    // Up to n bytes at off; "" at the end.
    std::string read_at(std::uint64_t off, std::size_t n, const std::string& path) const {
        std::string buf(n, '\0');
        for (;;) {
            ssize_t got = ::pread(fd, buf.data(), n, static_cast<off_t>(off));
            if (got < 0 && errno == EINTR) continue;
            if (got < 0) throw_os_error(errno, "cannot read " + path);
            buf.resize(static_cast<std::size_t>(got));
            return buf;
        }
    }
};

}  // namespace

FormData::FormData() {
    std::random_device rd;
    static const char* hex = "0123456789abcdef";
    for (int i = 0; i < 32; ++i) boundary_ += hex[rd() % 16];
}

void FormData::add_field(std::string name, std::string value, std::string content_type, std::string filename) {
    Part p;
    p.name = std::move(name);
    p.value = std::move(value);
    p.content_type = std::move(content_type);
    p.filename = std::move(filename);
    parts_.push_back(std::move(p));
}

void FormData::add_file(std::string name, std::string path, std::string content_type, std::string filename) {
    Part p;
    p.name = std::move(name);
    p.is_file = true;
    if (filename.empty()) filename = path.substr(path.rfind('/') + 1);
    if (content_type.empty()) content_type = std::string(guess_content_type(path));
    p.path = std::move(path);
    p.content_type = std::move(content_type);
    p.filename = std::move(filename);
    parts_.push_back(std::move(p));
}

std::string FormData::content_type() const { return "multipart/form-data; boundary=" + boundary_; }

bool FormData::has_files() const noexcept {
    for (const Part& p : parts_)
        if (p.is_file) return true;
    return false;
}

std::string FormData::head_of(const Part& p) const {
    std::string h = "--" + boundary_ + "\r\nContent-Disposition: form-data; name=" + quoted(p.name);
    if (!p.filename.empty() || p.is_file) h += "; filename=" + quoted(p.filename);
    h += "\r\n";
    if (!p.content_type.empty()) h += "Content-Type: " + p.content_type + "\r\n";
    return h + "\r\n";
}

std::uint64_t FormData::content_length() const {
    std::uint64_t n = 0;
    for (const Part& p : parts_) n += head_of(p).size() + (p.is_file ? size_of(p.path) : p.value.size()) + 2;
    return n + boundary_.size() + 6;  // "--" boundary "--\r\n"
}

std::string FormData::encode() const {
    std::string out;
    for (const Part& p : parts_) {
        out += head_of(p);
        if (p.is_file) {
            Fd f(p.path);
            for (std::uint64_t off = 0;;) {
                std::string piece = f.read_at(off, 64 * 1024, p.path);
                if (piece.empty()) break;
                off += piece.size();
                out += piece;
            }
        } else {
            out += p.value;
        }
        out += "\r\n";
    }
    return out + "--" + boundary_ + "--\r\n";
}

AsyncGenerator<std::string> FormData::stream() const {
    // A copy: the generator may outlive this object (RequestOptions moves it).
    std::vector<Part> parts = parts_;
    std::string boundary = boundary_;
    std::vector<std::string> heads;
    for (const Part& p : parts) heads.push_back(head_of(p));
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const Part& p = parts[i];
        if (!p.is_file) {
            // GCC 12.2: a named value, not a temporary, in co_yield (docs/asyncio.md, "Compiler notes").
            std::string whole = heads[i] + p.value + "\r\n";
            co_yield std::move(whole);
            continue;
        }
        co_yield std::move(heads[i]);
        const std::uint64_t size = size_of(p.path);
        Fd f(p.path);
        for (std::uint64_t off = 0; off < size;) {
            std::string piece =
                f.read_at(off, static_cast<std::size_t>(std::min<std::uint64_t>(64 * 1024, size - off)), p.path);
            if (piece.empty()) throw std::runtime_error("the file " + p.path + " got shorter while it was being sent");
            off += piece.size();
            co_yield std::move(piece);
        }
        std::string crlf = "\r\n";
        co_yield std::move(crlf);
    }
    std::string close = "--" + boundary + "--\r\n";
    co_yield std::move(close);
}

}  // namespace tulip::http
