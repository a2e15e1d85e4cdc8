// src/http/client_response.cpp — http::ClientResponse (see client_response.hpp).
#include <tulip/http/client_response.hpp>

#include <iconv.h>

#include <cerrno>
#include <limits>

#include <tulip/http/client_errors.hpp>

#include "client_connection.hpp"

namespace tulip::http {

namespace detail {

namespace {
constexpr std::size_t kAll = std::numeric_limits<std::size_t>::max();

std::string take_front(std::string& s, std::size_t n) {
    if (n >= s.size()) return std::exchange(s, std::string());
    std::string out = s.substr(0, n);
    s.erase(0, n);
    return out;
}
}  // namespace

// text(): the body in UTF-8, from its charset (glibc's iconv knows them
// all). No charset, or UTF-8 or ASCII: as it is. Bytes the charset cannot
// have throw ClientPayloadError, as Python's decode does; so does a charset
// iconv does not know (aiohttp raises LookupError).
std::string to_utf8(std::string body, const std::string& charset) {
    if (charset.empty() || charset == "utf-8" || charset == "utf8" || charset == "us-ascii" || charset == "ascii")
        return body;
    iconv_t cd = iconv_open("UTF-8", charset.c_str());
    if (cd == reinterpret_cast<iconv_t>(-1)) throw ClientPayloadError("unknown charset '" + charset + "'");
    struct Closer {
        iconv_t cd;
        ~Closer() { iconv_close(cd); }
    } closer{cd};
    std::string out(body.size() * 4 + 16, '\0');
    char* in = body.data();
    std::size_t in_left = body.size();
    char* o = out.data();
    std::size_t out_left = out.size();
    while (in_left > 0) {
        if (iconv(cd, &in, &in_left, &o, &out_left) == static_cast<std::size_t>(-1)) {
            if (errno == E2BIG) {
                std::size_t used = static_cast<std::size_t>(o - out.data());
                out.resize(out.size() * 2);
                o = out.data() + used;
                out_left = out.size() - used;
                continue;
            }
            throw ClientPayloadError("the body is not valid " + charset + " (at byte " +
                                     std::to_string(body.size() - in_left) + ")");
        }
    }
    out.resize(static_cast<std::size_t>(o - out.data()));
    return out;
}

// More decoded bytes into `pending`; false at the end of the body.
static Coro<bool> fill(Ref<ResponseState> self) {
    for (;;) {
        if (self->raw_done) co_return false;
        if (!self->conn) throw ClientConnectionError("the response was released before its body was read");
        std::string raw = co_await ClientConnection::read_body(self->conn, kAll, self->deadline, self->sock_read);
        bool end = raw.empty() || (self->conn->response_complete() && self->conn->body_buffered() == 0);
        if (self->inflater) {
            self->inflater->feed(raw, self->pending);
        } else if (self->pending.empty()) {
            self->pending = std::move(raw);
        } else {
            self->pending.append(raw);
        }
        if (end) {
            self->raw_done = true;
            if (self->inflater) self->inflater->finish();
            self->release();  // the connection can serve again
        }
        if (!self->pending.empty()) co_return true;
    }
}

Coro<std::string> ResponseState::next(Ref<ResponseState> self, std::size_t max) {
    if (max == 0) co_return std::string();
    if (self->pending.empty()) {
        // GCC 12.2: no co_await inside an if condition (docs/asyncio.md, "Compiler notes").
        const bool more = co_await fill(self);
        if (!more) {
            self->eof = true;
            co_return std::string();
        }
    }
    co_return take_front(self->pending, max);
}

}  // namespace detail

ClientResponse::ClientResponse(Ref<detail::ResponseState> s) : s_(std::move(s)) {}
ClientResponse::ClientResponse(const ClientResponse&) = default;
ClientResponse::ClientResponse(ClientResponse&&) noexcept = default;
ClientResponse& ClientResponse::operator=(const ClientResponse&) = default;
ClientResponse& ClientResponse::operator=(ClientResponse&&) noexcept = default;
ClientResponse::~ClientResponse() = default;

detail::ResponseState& ClientResponse::state() const {
    if (!s_) throw std::logic_error("an empty ClientResponse");
    return *s_;
}

int ClientResponse::status() const { return state().status; }
const std::string& ClientResponse::reason() const { return state().reason; }
const Headers& ClientResponse::headers() const { return state().headers; }
int ClientResponse::version_major() const { return state().version_major; }
int ClientResponse::version_minor() const { return state().version_minor; }
const URL& ClientResponse::url() const { return state().url; }
const std::string& ClientResponse::method() const { return state().method; }
const std::vector<ClientResponse>& ClientResponse::history() const { return state().history; }
std::optional<std::uint64_t> ClientResponse::content_length() const { return state().content_length; }

namespace {
std::string lower_trimmed(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}
}  // namespace

std::string ClientResponse::content_type() const {
    std::string_view ct = headers().get("Content-Type", "");
    return lower_trimmed(ct.substr(0, ct.find(';')));
}

std::string ClientResponse::charset() const {
    std::string_view ct = headers().get("Content-Type", "");
    for (auto semi = ct.find(';'); semi != std::string_view::npos; semi = ct.find(';')) {
        ct.remove_prefix(semi + 1);
        std::string_view param = ct.substr(0, ct.find(';'));
        auto eq = param.find('=');
        if (eq == std::string_view::npos || lower_trimmed(param.substr(0, eq)) != "charset") continue;
        std::string v = lower_trimmed(param.substr(eq + 1));
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
        return v;
    }
    return {};
}

void ClientResponse::raise_for_status() const {
    const detail::ResponseState& s = state();
    if (s.status < 400) return;
    s_->release();
    throw ClientResponseError(s.status, s.reason, s.url.to_string(), s.headers);
}

Coro<std::string> ClientResponse::read() {
    Ref<detail::ResponseState> s = s_;
    if (!s) throw std::logic_error("an empty ClientResponse");
    if (s->body) co_return *s->body;
    std::string all;
    for (;;) {
        std::string part = co_await detail::ResponseState::next(s, detail::kAll);
        if (part.empty()) break;
        if (all.empty())
            all = std::move(part);
        else
            all.append(part);
    }
    s->body = all;
    co_return all;
}

Coro<std::string> ClientResponse::text() {
    ClientResponse self = *this;
    std::string body = co_await self.read();
    co_return detail::to_utf8(std::move(body), self.charset());
}

Coro<std::string> ClientResponse::read_some(std::size_t n) {
    Ref<detail::ResponseState> s = s_;
    if (!s) throw std::logic_error("an empty ClientResponse");
    co_return co_await detail::ResponseState::next(s, n);
}

Coro<std::string> ClientResponse::readany() { return read_some(detail::kAll); }

Coro<std::string> ClientResponse::readline(std::size_t limit) {
    Ref<detail::ResponseState> s = s_;
    if (!s) throw std::logic_error("an empty ClientResponse");
    std::size_t scanned = 0;
    for (;;) {
        auto nl = s->pending.find('\n', scanned);
        if (nl != std::string::npos) {
            if (nl + 1 > limit) throw ClientPayloadError("a line longer than " + std::to_string(limit) + " bytes");
            co_return detail::take_front(s->pending, nl + 1);
        }
        if (s->pending.size() > limit)
            throw ClientPayloadError("a line longer than " + std::to_string(limit) + " bytes");
        scanned = s->pending.size();
        const bool more = co_await detail::fill(s);
        if (!more) {
            s->eof = s->pending.empty();
            co_return std::exchange(s->pending, std::string());
        }
    }
}

AsyncGenerator<std::string> ClientResponse::iter_chunked(std::size_t n) {
    Ref<detail::ResponseState> s = s_;
    if (!s) throw std::logic_error("an empty ClientResponse");
    for (;;) {
        std::string part = co_await detail::ResponseState::next(s, n);
        if (part.empty()) co_return;
        co_yield std::move(part);
    }
}

bool ClientResponse::at_eof() const {
    const detail::ResponseState& s = state();
    return s.raw_done && s.pending.empty();
}

void ClientResponse::release() {
    if (s_) s_->release();
}

void ClientResponse::close() {
    if (s_) s_->close();
}

}  // namespace tulip::http
