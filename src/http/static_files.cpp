// src/http/static_files.cpp — file responses (sendfile, validators, ranges)
// and Application::add_static (aiohttp's FileResponse and add_static).
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <memory>
#include <string>

#include <tulip/http/application.hpp>
#include <tulip/http/date.hpp>
#include <tulip/http/exceptions.hpp>
#include <tulip/http/mime.hpp>
#include <tulip/net/sendfile.hpp>

#include "../core/sys.hpp"
#include "connection.hpp"
#include "file_ranges.hpp"

namespace tulip::http {

namespace detail {

namespace {

struct FdCloser {
    int fd;
    ~FdCloser() {
        if (fd >= 0) ::close(fd);
    }
};

// sendfile(2) goes in pieces of this size, so that the send-idle timeout
// measures progress rather than the whole transfer.
constexpr std::uint64_t kFilePiece = 4 * 1024 * 1024;

// Files up to this size go out with read + one writev (see send_file);
// larger ones by sendfile(2), which saves copying them through user space.
constexpr std::uint64_t kSmallFile = 16 * 1024;

}  // namespace

Coro<void> Connection::send_file(Ref<Connection> self, Response* resp, const Request* req) {
    Connection& c = *self;
    const std::string& method = req->method();
    // add_static opened and fstat'ed the file already; Response::file's path
    // is opened here.
    int fd = resp->opened_.release();
    int open_errno = 0;
    struct stat st {};
    std::uint64_t size = 0;
    std::time_t mtime = 0;
    if (fd >= 0) {
        size = resp->opened_.size();
        mtime = static_cast<std::time_t>(resp->opened_.mtime());
    } else {
        fd = ::open(resp->file_path_.c_str(), O_RDONLY | O_CLOEXEC);
        open_errno = errno;
        if (fd >= 0 && ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
            size = static_cast<std::uint64_t>(st.st_size);
            mtime = st.st_mtim.tv_sec;
        } else {
            if (fd >= 0) ::close(fd);
            fd = -1;
        }
    }
    FdCloser closer{fd};
    if (fd < 0) {
        int status = open_errno == EACCES || open_errno == EPERM ? 403 : 404;
        Response err = error_response(HTTPException(status));
        co_await finish(self, &err, req);
        co_return;
    }
    std::string etag = file_etag(mtime, size);
    std::string last_modified = format_http_date(mtime);
    Headers& h = resp->headers_;
    h.set("ETag", etag);
    h.set("Last-Modified", last_modified);
    h.set("Accept-Ranges", "bytes");
    resp->body_.clear();

    // Conditionals, in RFC 9110 13.2.2's order: If-None-Match wins over
    // If-Modified-Since.
    bool get_or_head = method == "GET" || method == "HEAD";
    bool not_modified = false;
    if (auto inm = req->headers().get("If-None-Match")) {
        not_modified = get_or_head && etag_list_matches(*inm, etag);
    } else if (auto ims = req->headers().get("If-Modified-Since"); ims && get_or_head) {
        auto since = parse_http_date(*ims);
        not_modified = since && mtime <= *since;
    }
    if (not_modified) {
        resp->status_ = 304;
        resp->reason_.clear();
        c.write_head(*resp, false, std::nullopt);
        c.transport_->write(c.out_);
        if (c.write_paused_) co_await drain(self);
        co_return;
    }

    if (!h.contains("Content-Type")) h.set("Content-Type", guess_content_type(resp->file_path_));
    ByteRange range;
    RangeResult rr = RangeResult::ignore;
    if (method == "GET") {
        if (auto r = req->headers().get("Range")) {
            bool use = true;
            if (auto ir = req->headers().get("If-Range")) use = *ir == etag || *ir == last_modified;
            if (use) rr = parse_range(*r, size, range);
        }
    }
    std::uint64_t offset = 0, length = size;
    if (rr == RangeResult::unsatisfiable) {
        resp->status_ = 416;
        resp->reason_.clear();
        h.set("Content-Range", "bytes */" + std::to_string(size));
        length = 0;
    } else if (rr == RangeResult::satisfiable) {
        resp->status_ = 206;
        resp->reason_.clear();
        h.set("Content-Range",
              "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) + "/" + std::to_string(size));
        offset = range.first;
        length = range.last - range.first + 1;
    }
    c.write_head(*resp, false, length);
    if (c.req_is_head_ || length == 0) {
        c.transport_->write(c.out_);
        if (c.write_paused_) co_await drain(self);
        co_return;
    }
    if (length <= kSmallFile) {
        // A small file costs less read and sent with its head in one
        // writev than through sendfile(2), which first waits for the
        // transport's buffer to empty (a loop iteration and epoll changes).
        std::string& buf = c.state_->file_buf;
        buf.resize(static_cast<std::size_t>(length));
        std::size_t got = 0;
        while (got < buf.size()) {
            ssize_t n = ::pread(fd, buf.data() + got, buf.size() - got, static_cast<off_t>(offset + got));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                c.abort();  // the head promised `length` bytes
                throw std::runtime_error("reading '" + resp->file_path_ + "' failed or it shrank while being sent");
            }
            got += static_cast<std::size_t>(n);
        }
        std::string_view parts[2] = {c.out_, buf};
        c.transport_->writelines(parts);
        if (c.write_paused_) co_await drain(self);
        co_return;
    }
    // With nothing buffered, head and file go straight to the socket now, as
    // far as it takes them: the head with MSG_MORE, so that it leaves in one
    // segment with the file's first bytes (alone, it cost a segment's trip
    // through the stack per response), then sendfile(2). tulip::sendfile
    // would first wait for writability and pause and resume reading: three
    // epoll changes and a loop iteration per response. Nothing else runs on
    // this connection meanwhile. What is left (a full socket, an error to
    // report, TLS) goes the general way below.
    auto* sft = dynamic_cast<tulip::detail::SendfileTransport*>(c.transport_.get());
    int sock =
        sft && !c.transport_->is_closing() && c.transport_->get_write_buffer_size() == 0 ? sft->sendfile_socket() : -1;
    std::size_t head_sent = 0;
    if (sock >= 0) {
        long n;
        do {
            n = tulip::detail::sys::send(sock, c.out_.data(), c.out_.size(), MSG_MORE);
        } while (n < 0 && errno == EINTR);
        if (n > 0) head_sent = static_cast<std::size_t>(n);
    }
    if (head_sent < c.out_.size()) c.transport_->write(std::string_view(c.out_).substr(head_sent));
    if (sock >= 0 && head_sent == c.out_.size()) {
        long pos = static_cast<long>(offset);
        while (length > 0) {
            std::uint64_t piece = length < kFilePiece ? length : kFilePiece;
            long n = tulip::detail::sys::sendfile(sock, fd, &pos, piece);
            if (n <= 0) {
                if (n < 0 && errno == EINTR) continue;
                break;
            }
            length -= static_cast<std::uint64_t>(n);
        }
        offset = static_cast<std::uint64_t>(pos);
        if (length == 0) co_return;
    }
    Ref<BaseTransport> t(c.transport_.get());
    while (length > 0) {
        std::uint64_t piece = length < kFilePiece ? length : kFilePiece;
        c.arm(c.state_->options.timeouts.send_idle, TimerKind::send);
        std::size_t sent =
            co_await tulip::sendfile(t, fd, static_cast<std::int64_t>(offset), static_cast<std::int64_t>(piece), true);
        if (sent == 0) throw std::runtime_error("the file '" + resp->file_path_ + "' shrank while being sent");
        offset += sent;
        length -= sent;
    }
    if (c.timer_kind_ == TimerKind::send) c.disarm();
    // sendfile paused and resumed the transport's reading itself.
    c.reading_paused_ = false;
    c.update_reading();
}

}  // namespace detail

namespace {

// The static root, open for openat2's RESOLVE_BENEATH; shared by the
// handler's copies and closed with the last.
struct StaticRoot {
    std::string path;  // realpath of the directory
    int fd = -1;
    ~StaticRoot() {
        if (fd >= 0) ::close(fd);
    }
};

// Opens root/name for reading, refusing any path that leaves root on the
// way (a symlink out, an absolute symlink) with EXDEV. -1 and errno on
// failure; ENOSYS where the kernel or a seccomp filter lacks openat2.
int open_beneath(const StaticRoot& root, const std::string& name) {
    open_how how{};
    how.flags = O_RDONLY | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    long fd = ::syscall(SYS_openat2, root.fd, name.c_str(), &how, sizeof how);
    return static_cast<int>(fd);
}

// The portable way, for kernels without openat2 and for what it refuses
// (an absolute symlink that stays inside root): realpath, then a prefix check.
int open_resolved(const StaticRoot& root, const std::string& name) {
    std::string full = root.path;
    full.append("/").append(name);
    char* resolved = ::realpath(full.c_str(), nullptr);
    if (!resolved) return -1;
    std::string path(resolved);
    std::free(resolved);
    std::string prefix = root.path;
    prefix.append("/");
    if (path.compare(0, prefix.size(), prefix) != 0) {
        errno = ENOENT;
        return -1;
    }
    return ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
}

}  // namespace

Application& Application::add_static(std::string prefix, std::string directory) {
    if (prefix.size() < 2 || prefix[0] != '/' || prefix.back() == '/')
        throw std::invalid_argument("a static prefix starts with '/' and does not end with one: '" + prefix + "'");
    char* real = ::realpath(directory.c_str(), nullptr);
    if (!real) throw std::invalid_argument("add_static: no directory '" + directory + "'");
    auto root = std::make_shared<StaticRoot>();
    root->path = real;
    std::free(real);
    root->fd = ::open(root->path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root->fd < 0) throw std::invalid_argument("add_static: '" + directory + "' is not a directory");
    // The request's path is decoded and has no dot segments (parse_target),
    // so `name` cannot climb by itself; openat2 (or realpath) stops symlinks
    // that lead out. The file is opened here and its descriptor handed to
    // the response, so what was checked is what is sent.
    Handler h = [root](Request& r) -> Coro<Response> {
        const std::string& name = r.match_info("filename");
        if (name.empty() || name.find('\0') != std::string::npos) throw HTTPException(404);
        int fd = open_beneath(*root, name);
        if (fd < 0 && (errno == ENOSYS || errno == EPERM || errno == EXDEV)) fd = open_resolved(*root, name);
        if (fd < 0) throw HTTPException(errno == EACCES ? 403 : 404);
        detail::FdCloser closer{fd};
        struct stat st {};
        if (::fstat(fd, &st) != 0) throw HTTPException(404);
        if (S_ISDIR(st.st_mode)) throw HTTPException(403);  // no directory listings
        if (!S_ISREG(st.st_mode)) throw HTTPException(404);
        std::string path = root->path;
        path.append("/").append(name);
        Response resp = Response::file(std::move(path));
        resp.opened_ = detail::OpenedFile(fd, static_cast<std::uint64_t>(st.st_size), st.st_mtim.tv_sec);
        closer.fd = -1;
        co_return resp;
    };
    return route("GET", prefix + "/{filename:.*}", std::move(h));
}

}  // namespace tulip::http
