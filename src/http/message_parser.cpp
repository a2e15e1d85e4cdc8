// tulip::http::detail::MessageParser on llhttp: limits, smuggling checks, and
// C++ exceptions kept out of llhttp's C frames.
#include "message_parser.hpp"

#include "headers_access.hpp"

#include <llhttp.h>

#include <algorithm>
#include <exception>
#include <limits>
#include <stdexcept>
#include <utility>

namespace tulip::http::detail {

namespace {

// Field names whose values decide the framing (RFC 9112 section 6).
enum class Special { none, content_length, transfer_encoding, host, expect };

Special classify(std::string_view name) noexcept {
    if (ascii_iequals(name, "content-length")) {
        return Special::content_length;
    }
    if (ascii_iequals(name, "transfer-encoding")) {
        return Special::transfer_encoding;
    }
    if (ascii_iequals(name, "host")) {
        return Special::host;
    }
    if (ascii_iequals(name, "expect")) {
        return Special::expect;
    }
    return Special::none;
}

std::string_view trim_ows(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

// The status and reason for an error llhttp found itself.
ParseError llhttp_error(llhttp_errno_t err, const char* reason) {
    const std::string why = reason != nullptr ? reason : llhttp_errno_name(err);
    switch (err) {
        case HPE_INVALID_CONTENT_LENGTH:
            return {400, "invalid Content-Length (" + why + ")"};
        case HPE_UNEXPECTED_CONTENT_LENGTH:
            return {400, "Content-Length not allowed here (" + why + ")"};
        case HPE_INVALID_TRANSFER_ENCODING:
            return {400, "invalid Transfer-Encoding (" + why + ")"};
        case HPE_INVALID_CHUNK_SIZE:
            return {400, "invalid chunk size (" + why + ")"};
        case HPE_INVALID_HEADER_TOKEN:
            return {400, "invalid header field (" + why + ")"};
        case HPE_INVALID_METHOD:
            return {400, "invalid method (" + why + ")"};
        case HPE_INVALID_URL:
            return {400, "invalid request-target (" + why + ")"};
        case HPE_INVALID_VERSION:
            return {400, "invalid HTTP version (" + why + ")"};
        case HPE_INVALID_STATUS:
            return {400, "invalid status code (" + why + ")"};
        case HPE_LF_EXPECTED:
        case HPE_CR_EXPECTED:
            return {400, "bare LF or CR where CRLF is required (" + why + ")"};
        case HPE_INVALID_EOF_STATE:
            return {400, "connection closed in the middle of a message"};
        default:
            return {400, "malformed HTTP message (" + why + ")"};
    }
}

}  // namespace

struct MessageParser::Impl {
    Impl(Kind k, Sink& s, ParserLimits l) : kind(k), sink(s), limits(l) {
        llhttp_init(&parser, k == Kind::request ? HTTP_REQUEST : HTTP_RESPONSE, &settings());
        parser.data = this;
    }

    static const llhttp_settings_t& settings() noexcept;

    enum class Field { none, name, value };

    llhttp_t parser{};
    Kind kind;
    Sink& sink;
    ParserLimits limits;
    MessageHead head;
    Headers trailers;

    // Per message.
    bool in_message = false;
    bool head_done = false;  // the sink has the head
    bool in_trailers = false;
    Field field = Field::none;
    Special special = Special::none;
    std::size_t fields = 0;       // header + trailer lines
    std::size_t field_bytes = 0;  // header + trailer names and values
    std::uint64_t body_bytes = 0;
    int content_lengths = 0;
    int hosts = 0;
    bool transfer_encoding = false;
    int chunked_codings = 0;
    bool last_coding_chunked = false;
    bool other_codings = false;

    // The head's bytes as fed (requests): llhttp accepts a bare LF in places
    // and extra spaces in the request line, so feed() looks at them itself
    // before the head goes to the sink.
    bool scanning = true;             // from the end of a message until its successor's head is delivered
    bool head_pending = false;        // head parsed, paused, not yet given to the sink
    bool trailers_pending = false;    // paused after the last chunk's line: the trailer section follows
    bool scan_reset_pending = false;  // a message completed: the next one's head is scanned afresh
    bool scan_prev_cr = false;
    bool scan_request_line = true;  // still in the request line (blank lines before it aside)
    bool scan_line_empty = true;
    bool scan_line_start = false;  // just after an LF
    bool scan_this_line_empty = true;
    bool scan_head_done = false;
    int scan_spaces = 0;
    std::size_t scan_bytes = 0;
    // Where the current value's last piece ended: a piece that does not start
    // there continues the value after a line break (obs-fold).
    const char* value_next = nullptr;
    bool value_at_feed_start = false;  // the value's next piece must start the next feed
    bool value_broken = false;         // bytes went by since the value's last piece
    const char* exec_begin = nullptr;
    const char* exec_end = nullptr;

    // The last four bytes consumed, across feeds: a chunked request must end
    // in CRLF CRLF. llhttp 8.1 also ends its trailer section at a bare LF
    // ("0\r\n\n"), where a front end that wants CRLF reads on: the bytes
    // after it would be a second request to us and trailer lines to it.
    char tail[4] = {};
    bool complete_pending = false;  // a chunked message's end, checked by feed() before the sink hears of it
    void remember_tail(std::string_view bytes) noexcept {
        for (const char c : bytes.substr(bytes.size() > 4 ? bytes.size() - 4 : 0)) {
            tail[0] = tail[1];
            tail[1] = tail[2];
            tail[2] = tail[3];
            tail[3] = c;
        }
    }

    // Across messages.
    bool response_to_head = false;
    bool upgraded = false;
    std::exception_ptr error;  // dead once set

    Headers& current_headers() noexcept { return in_trailers ? trailers : head.headers; }

    [[noreturn]] void fail(int status, std::string what) { throw ParseError(status, std::move(what)); }

    // Runs a callback's body, turning any exception into a stored error and
    // llhttp's "stop" return value (HPE_USER), never unwinding through C.
    template <typename F>
    static int guard(llhttp_t* p, F&& f) noexcept {
        auto* self = static_cast<Impl*>(p->data);
        try {
            return f(*self);
        } catch (...) {
            self->error = std::current_exception();
            return HPE_USER;
        }
    }

    void begin_message() {
        in_message = true;
        head_done = false;
        in_trailers = false;
        field = Field::none;
        fields = field_bytes = 0;
        body_bytes = 0;
        content_lengths = hosts = 0;
        transfer_encoding = false;
        chunked_codings = 0;
        last_coding_chunked = other_codings = false;
        head.method.clear();
        head.target.clear();
        head.status = 0;
        head.reason.clear();
        head.version_major = head.version_minor = 1;
        head.headers.clear();
        head.keep_alive = true;
        head.chunked = false;
        head.content_length.reset();
        head.upgrade = false;
        head.expect_continue = false;
        trailers.clear();
    }

    void start_line_piece(std::string& into, std::string_view piece, const char* what) {
        if (into.size() + piece.size() > limits.max_line) {
            fail(414, std::string(what) + " longer than " + std::to_string(limits.max_line) + " bytes");
        }
        into.append(piece);
    }

    void count_field_bytes(std::size_t n) {
        field_bytes += n;
        if (field_bytes > limits.max_header_bytes) {
            fail(431, "header fields larger than " + std::to_string(limits.max_header_bytes) + " bytes");
        }
    }

    void header_name_piece(std::string_view piece) {
        Headers& h = current_headers();
        if (field != Field::name) {
            if (++fields > limits.max_headers) {
                fail(431, "more than " + std::to_string(limits.max_headers) + " header fields");
            }
            HeadersAccess::begin_field(h);
            field = Field::name;
        }
        count_field_bytes(piece.size());
        HeadersAccess::append_name(h, piece);
    }

    void header_name_complete() {
        Headers& h = current_headers();
        if (field != Field::name || HeadersAccess::last_name(h).empty()) {
            fail(400, "empty header field name");
        }
        value_next = nullptr;
        HeadersAccess::begin_value(h);
        field = Field::value;
        special = in_trailers ? Special::none : classify(HeadersAccess::last_name(h));
        switch (special) {
            case Special::content_length:
                if (++content_lengths > 1) {
                    fail(400, "duplicate Content-Length");
                }
                if (transfer_encoding) {
                    fail(400, "Transfer-Encoding and Content-Length both present");
                }
                break;
            case Special::transfer_encoding:
                if (content_lengths > 0) {
                    fail(400, "Transfer-Encoding and Content-Length both present");
                }
                transfer_encoding = true;
                break;
            case Special::host:
                if (kind == Kind::request && ++hosts > 1) {
                    fail(400, "duplicate Host");
                }
                break;
            default:
                break;
        }
    }

    void header_value_piece(std::string_view piece) {
        if (field != Field::value) {
            fail(400, "header value without a name");
        }
        // llhttp joins a line that starts with SP/HTAB to the value before it,
        // skipping the line break; RFC 9112 5.2 asks a server to reject that.
        if (value_broken || (value_next != nullptr && piece.data() != value_next)) {
            fail(400, "obs-fold (line folding) is not allowed");
        }
        value_next = piece.data() + piece.size();
        if (value_next == exec_end) {
            value_next = nullptr;  // continues at the start of the next feed
            value_at_feed_start = true;
        }
        for (const char c : piece) {
            if (c == '\r' || c == '\n') {
                fail(400, "obs-fold (line folding) is not allowed");
            }
            if (c == '\0') {
                fail(400, "NUL in a header value");
            }
        }
        count_field_bytes(piece.size());
        HeadersAccess::append_value(current_headers(), piece);
    }

    void header_value_complete() {
        Headers& h = current_headers();
        if (field != Field::value) {
            fail(400, "header value without a name");
        }
        HeadersAccess::end_field(h);
        field = Field::none;
        value_next = nullptr;
        value_at_feed_start = false;
        value_broken = false;
        const std::string_view value = HeadersAccess::last_value(h);
        switch (special) {
            case Special::content_length: {
                if (value.empty() || value.size() > 19) {
                    fail(400, "invalid Content-Length");
                }
                for (const char c : value) {
                    if (c < '0' || c > '9') {
                        fail(400, "invalid Content-Length");
                    }
                }
                break;
            }
            case Special::transfer_encoding:
                add_codings(value);
                break;
            case Special::expect:
                // HTTP/1.0 clients know no 100 (RFC 9110 10.1.1: ignore it from them).
                if (kind == Kind::request && parser.http_minor >= 1 && ascii_iequals(value, "100-continue")) {
                    head.expect_continue = true;
                }
                break;
            default:
                break;
        }
    }

    // Transfer codings, over every Transfer-Encoding line in order.
    void add_codings(std::string_view list) {
        while (!list.empty()) {
            const auto comma = list.find(',');
            std::string_view coding = trim_ows(list.substr(0, comma));
            list.remove_prefix(comma == std::string_view::npos ? list.size() : comma + 1);
            if (coding.empty()) {
                continue;
            }
            if (last_coding_chunked && kind == Kind::request) {
                fail(400, "Transfer-Encoding has a coding after chunked");
            }
            const auto semi = coding.find(';');
            if (ascii_iequals(trim_ows(coding.substr(0, semi)), "chunked")) {
                if (semi != std::string_view::npos) {
                    fail(400, "Transfer-Encoding chunked with parameters");
                }
                ++chunked_codings;
                last_coding_chunked = true;
            } else {
                other_codings = true;
                last_coding_chunked = false;
            }
        }
    }

    int headers_complete() {
        if (kind == Kind::request) {
            if (parser.http_major == 0) {
                fail(400, "request line without an HTTP version (HTTP/0.9)");
            }
            if (parser.http_major != 1) {
                fail(505, "HTTP version " + std::to_string(parser.http_major) + "." +
                              std::to_string(parser.http_minor) + " not supported");
            }
            if (transfer_encoding) {
                if (parser.http_minor == 0) {  // RFC 9112 6.1: its framing is faulty
                    fail(400, "Transfer-Encoding in an HTTP/1.0 request");
                }
                if (!last_coding_chunked) {
                    fail(400, "Transfer-Encoding whose final coding is not chunked");
                }
                if (chunked_codings > 1) {
                    fail(400, "Transfer-Encoding applies chunked more than once");
                }
                if (other_codings) {
                    fail(501, "unsupported transfer coding (only chunked is)");
                }
            }
            if (limits.require_host && hosts == 0 && parser.http_minor >= 1) {
                fail(400, "missing Host (required in HTTP/1.1)");
            }
        }
        if (kind == Kind::response && (parser.status_code < 100 || parser.status_code > 999)) {
            fail(400, "invalid status code " + std::to_string(parser.status_code));
        }
        // RFC 9110 6.3: these responses have no body whatever their headers say
        // (llhttp would read one after a 304 with Content-Length).
        const int st = parser.status_code;
        const bool no_body = kind == Kind::response && (response_to_head || st < 200 || st == 204 || st == 304);
        head.status = parser.status_code;
        head.version_major = parser.http_major;
        head.version_minor = parser.http_minor;
        head.keep_alive = llhttp_should_keep_alive(&parser) != 0;
        head.chunked = (parser.flags & F_CHUNKED) != 0;
        if ((parser.flags & F_CONTENT_LENGTH) != 0) {
            head.content_length = parser.content_length;
            if (parser.content_length > limits.max_body && !no_body) {
                fail(413, "Content-Length " + std::to_string(parser.content_length) + " above the limit of " +
                              std::to_string(limits.max_body) + " bytes");
            }
        }
        head.upgrade = parser.upgrade != 0;
        if (kind == Kind::response && st >= 200) {
            response_to_head = false;  // for this one (final) response
        }
        if (no_body) {
            // What returning 1 asks of llhttp, which a pause cannot return.
            parser.flags |= F_SKIPBODY;
        }
        // feed() checks the head's bytes, then gives it to the sink: the
        // same report however the bytes were cut.
        head_pending = true;
        return HPE_PAUSED;
    }

    // The head's bytes (and blank lines before it) as fed, before llhttp saw them.
    // A response's head is only checked for obs-fold: a client otherwise takes
    // what servers send as llhttp does. The value pieces alone cannot see a
    // fold whose line starts a feed (found by fuzz/http_response: whole, the
    // response was refused; cut after the CRLF, taken).
    void scan(std::string_view bytes) {
        const bool request = kind == Kind::request;
        scan_bytes += bytes.size();
        // llhttp skips some bytes without a callback (whitespace around values):
        // a head much larger than the limits allow is cut short here.
        if (request && scan_bytes > limits.max_line + limits.max_header_bytes + 4 * limits.max_headers + 4096) {
            fail(431, "message head too large");
        }
        for (const char c : bytes) {
            if (scan_head_done) {
                return;  // a response's body, fed with its head (only requests pause there)
            }
            if (scan_line_start && !scan_request_line && (c == ' ' || c == '\t')) {
                fail(400, "obs-fold (line folding) is not allowed");
            }
            if (scan_line_start) {
                scan_this_line_empty = true;
            }
            scan_line_start = c == '\n';
            if (c == '\n') {
                if (!scan_request_line && scan_this_line_empty) {
                    scan_head_done = true;  // the empty line that ends the head
                }
                if (request && !scan_prev_cr) {
                    fail(400, "bare LF in the request head (CRLF required)");
                }
                if (scan_request_line && !scan_line_empty) {
                    if (request && scan_spaces != 2) {
                        fail(400, "request line is not method SP request-target SP version");
                    }
                    scan_request_line = false;
                }
            } else if (c != '\r') {
                scan_line_empty = false;
                scan_this_line_empty = false;
                scan_spaces += (scan_request_line && c == ' ') ? 1 : 0;
            }
            scan_prev_cr = c == '\r';
        }
    }

    // From just after the last chunk's line: header lines until the empty one.
    void start_trailer_scan() noexcept {
        reset_scan();
        scan_request_line = false;
        scan_line_start = true;
    }

    void reset_scan() noexcept {
        scanning = true;
        scan_prev_cr = false;
        scan_request_line = true;
        scan_line_empty = true;
        scan_line_start = false;
        scan_this_line_empty = true;
        scan_head_done = false;
        scan_spaces = 0;
        scan_bytes = 0;
    }

    void body(std::string_view chunk) {
        body_bytes += chunk.size();
        if (body_bytes > limits.max_body) {
            fail(413, "body larger than " + std::to_string(limits.max_body) + " bytes");
        }
        sink.on_body(chunk);
    }

    int message_complete() {
        in_message = false;
        const bool had_trailers = in_trailers && !trailers.empty();
        in_trailers = false;
        // feed() resets the scan once it has scanned this call's bytes: the
        // trailer section's scan still has the last ones to see.
        scan_reset_pending = true;
        if (parser.upgrade != 0) {
            upgraded = true;
        }
        if ((parser.flags & F_CHUNKED) != 0) {
            // feed() delivers the trailers and the end once it has checked the
            // trailer section's bytes.
            complete_pending = true;
        } else {
            if (had_trailers) {
                sink.on_trailers(trailers);
            }
            sink.on_message_complete();
        }
        return HPE_PAUSED;  // one message per feed(): the caller answers it first
    }
};

const llhttp_settings_t& MessageParser::Impl::settings() noexcept {
    static const llhttp_settings_t s = [] {
        llhttp_settings_t st;
        llhttp_settings_init(&st);
        st.on_message_begin = [](llhttp_t* p) {
            return guard(p, [](Impl& self) {
                self.begin_message();
                return 0;
            });
        };
        st.on_method = [](llhttp_t* p, const char* at, std::size_t n) {
            return guard(p, [=](Impl& self) {
                self.start_line_piece(self.head.method, {at, n}, "method");
                return 0;
            });
        };
        st.on_url = [](llhttp_t* p, const char* at, std::size_t n) {
            return guard(p, [=](Impl& self) {
                self.start_line_piece(self.head.target, {at, n}, "request-target");
                return 0;
            });
        };
        st.on_status = [](llhttp_t* p, const char* at, std::size_t n) {
            return guard(p, [=](Impl& self) {
                self.start_line_piece(self.head.reason, {at, n}, "reason phrase");
                return 0;
            });
        };
        st.on_header_field = [](llhttp_t* p, const char* at, std::size_t n) {
            return guard(p, [=](Impl& self) {
                self.header_name_piece({at, n});
                return 0;
            });
        };
        st.on_header_field_complete = [](llhttp_t* p) {
            return guard(p, [](Impl& self) {
                self.header_name_complete();
                return 0;
            });
        };
        st.on_header_value = [](llhttp_t* p, const char* at, std::size_t n) {
            return guard(p, [=](Impl& self) {
                self.header_value_piece({at, n});
                return 0;
            });
        };
        st.on_header_value_complete = [](llhttp_t* p) {
            return guard(p, [](Impl& self) {
                self.header_value_complete();
                return 0;
            });
        };
        st.on_headers_complete = [](llhttp_t* p) {
            return guard(p, [](Impl& self) { return self.headers_complete(); });
        };
        st.on_body = [](llhttp_t* p, const char* at, std::size_t n) {
            return guard(p, [=](Impl& self) {
                self.body({at, n});
                return 0;
            });
        };
        st.on_chunk_header = [](llhttp_t* p) {
            return guard(p, [](Impl& self) -> int {
                // A chunk that would take the body over the limit fails before its bytes come.
                if (self.parser.content_length >
                    self.limits.max_body - std::min(self.body_bytes, self.limits.max_body)) {
                    self.fail(413, "body larger than " + std::to_string(self.limits.max_body) + " bytes");
                }
                if (self.parser.content_length == 0) {  // the last chunk: trailers follow
                    self.in_trailers = true;
                    // feed() scans the trailer section as it scans a head: the
                    // value pieces alone miss a fold after an empty value (found
                    // by fuzz/http_chunked).
                    self.trailers_pending = true;
                    return HPE_PAUSED;
                }
                return 0;
            });
        };
        st.on_message_complete = [](llhttp_t* p) {
            return guard(p, [](Impl& self) { return self.message_complete(); });
        };
        return st;
    }();
    return s;
}

MessageParser::MessageParser(Kind kind, Sink& sink, ParserLimits limits)
    : impl_(std::make_unique<Impl>(kind, sink, limits)) {}

MessageParser::~MessageParser() = default;

std::size_t MessageParser::feed(std::string_view data) {
    Impl& s = *impl_;
    if (s.error) {
        std::rethrow_exception(s.error);
    }
    if (s.upgraded) {
        throw std::logic_error("MessageParser::feed after a protocol upgrade");
    }
    std::size_t total = 0;
    try {
        // After a head is delivered llhttp runs once more even with no bytes
        // left: a message without a body completes then.
        for (bool head_delivered = false; total < data.size() || head_delivered;) {
            head_delivered = false;
            const std::string_view rest = data.substr(total);
            s.exec_begin = rest.data();
            s.exec_end = rest.data() + rest.size();
            if (s.value_at_feed_start) {
                s.value_next = s.exec_begin;
                s.value_at_feed_start = false;
            }
            const bool scanning = s.scanning;
            const llhttp_errno_t err = llhttp_execute(&s.parser, rest.data(), rest.size());
            const bool ok = err == HPE_OK || err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE;
            if (!ok || s.error) {
                // The first problem in the byte stream wins, however the bytes were
                // cut: what the scan finds before the error position comes first.
                const char* pos = llhttp_get_error_pos(&s.parser);
                if (scanning && pos != nullptr && pos >= rest.data() && pos <= s.exec_end) {
                    s.scan(rest.substr(0, static_cast<std::size_t>(pos - rest.data())));
                }
                if (s.error) {  // a callback failed (it returned HPE_USER or similar)
                    std::rethrow_exception(s.error);
                }
                throw llhttp_error(err, llhttp_get_error_reason(&s.parser));
            }
            std::size_t n = rest.size();
            if (err != HPE_OK) {
                n = static_cast<std::size_t>(llhttp_get_error_pos(&s.parser) - rest.data());
            }
            if (s.field == Impl::Field::value && s.value_next == s.exec_begin && n > 0) {
                s.value_broken = true;  // this feed went by without a piece of the open value
            }
            if (scanning) {
                s.scan(rest.substr(0, n));
            }
            if (s.scan_reset_pending) {
                s.scan_reset_pending = false;
                s.reset_scan();
            }
            total += n;
            s.remember_tail(rest.substr(0, n));
            if (s.complete_pending) {
                s.complete_pending = false;
                if (s.kind == Kind::request && std::string_view(s.tail, 4) != "\r\n\r\n") {
                    s.fail(400, "bare LF ends the chunked body's trailer section (CRLF required)");
                }
                if (!s.trailers.empty()) {
                    s.sink.on_trailers(s.trailers);
                }
                s.sink.on_message_complete();
            }
            if (err == HPE_PAUSED_UPGRADE) {
                s.upgraded = true;
                break;
            }
            if (err == HPE_OK) {
                break;
            }
            llhttp_resume(&s.parser);
            if (s.trailers_pending) {
                s.trailers_pending = false;
                s.start_trailer_scan();
                continue;
            }
            if (!s.head_pending) {
                break;  // a message is complete: the caller answers it before feeding more
            }
            s.head_pending = false;
            s.scanning = false;
            s.head_done = true;
            s.sink.on_head(s.head);
            head_delivered = true;
        }
    } catch (...) {
        s.error = std::current_exception();  // dead: the same error from now on
        throw;
    }
    return total;
}

void MessageParser::feed_eof() {
    Impl& s = *impl_;
    if (s.error) {
        std::rethrow_exception(s.error);
    }
    if (s.upgraded || !s.in_message) {
        return;  // between messages, the end of input is a clean end
    }
    const llhttp_errno_t err = llhttp_finish(&s.parser);
    if (s.scan_reset_pending) {
        s.scan_reset_pending = false;
        s.reset_scan();
    }
    if (!s.error && err != HPE_OK && err != HPE_PAUSED) {
        s.error = std::make_exception_ptr(llhttp_error(err, llhttp_get_error_reason(&s.parser)));
    }
    if (s.error) {
        std::rethrow_exception(s.error);
    }
    llhttp_resume(&s.parser);
}

bool MessageParser::in_message() const noexcept { return impl_->in_message; }
bool MessageParser::in_head() const noexcept { return impl_->in_message && !impl_->head_done; }

void MessageParser::reset() noexcept {
    Impl& s = *impl_;
    llhttp_reset(&s.parser);
    s.in_message = s.head_done = s.in_trailers = false;
    s.field = Impl::Field::none;
    s.head_pending = false;
    s.trailers_pending = false;
    s.scan_reset_pending = false;
    s.complete_pending = false;
    std::fill(std::begin(s.tail), std::end(s.tail), '\0');
    s.reset_scan();
    s.value_next = nullptr;
    s.value_at_feed_start = s.value_broken = false;
    s.response_to_head = false;
    s.upgraded = false;
    s.error = nullptr;
}
bool MessageParser::upgraded() const noexcept { return impl_->upgraded; }
void MessageParser::set_response_to_head(bool yes) noexcept { impl_->response_to_head = yes; }
const ParserLimits& MessageParser::limits() const noexcept { return impl_->limits; }

}  // namespace tulip::http::detail
