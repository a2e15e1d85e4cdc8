// StreamReader, ported from asyncio/streams.py (3.13: readuntil with several separators).
#include <tulip/streams/stream_reader.hpp>

#include <algorithm>
#include <optional>
#include <stdexcept>

#include <tulip/core/exceptions.hpp>

namespace tulip {

// read(-1): blocks of up to `limit` bytes until EOF (asyncio's loop of reads).
Coro<std::string> StreamReader::read_all(StreamReader self) {
    const Ref<detail::StreamCore>& c = self.core();
    if (c->error) std::rethrow_exception(c->error);
    std::string all;
    for (;;) {
        std::string block = co_await self.read(static_cast<std::ptrdiff_t>(c->limit));
        if (block.empty()) break;
        all += block;
    }
    co_return all;
}

bool StreamReader::ReadAwaiter::await_ready() const noexcept {
    if (n_ < 0) return false;
    const detail::StreamCore& c = *core_;
    return c.error || n_ == 0 || c.available() > 0 || c.eof;
}

std::coroutine_handle<> StreamReader::ReadAwaiter::await_suspend(std::coroutine_handle<> h) {
    if (n_ < 0) {
        all_ = read_all(StreamReader(core_.ref()));
        auto aw = all_.operator co_await();
        (void)aw.await_ready();
        return aw.await_suspend(h);
    }
    core_->park_reader(w_, h, "read");
    parked_ = true;
    return std::noop_coroutine();
}

std::string StreamReader::ReadAwaiter::await_resume() {
    if (n_ < 0) return all_.operator co_await().await_resume();
    detail::StreamCore& c = *core_;
    if (parked_) {
        c.unpark_reader(w_);
        // Bytes that came before the error are still returned.
        if (c.error && c.available() == 0) std::rethrow_exception(c.error);
    } else {
        if (c.error) std::rethrow_exception(c.error);
        if (n_ == 0) return std::string();
    }
    return c.take(static_cast<std::size_t>(n_));
}

StreamReader::ReadAwaiter::~ReadAwaiter() {
    if (core_) core_->forget_reader(w_);
}

// The public reads are plain functions that hand a copy of the handle to the
// coroutine: a member coroutine would keep `this`, which may be gone by the
// time the coroutine first runs (CP.53).
Coro<std::string> StreamReader::readexactly(std::ptrdiff_t n) { return readexactly_impl(*this, n); }
Coro<std::string> StreamReader::readline() { return readline_impl(*this); }
Coro<std::string> StreamReader::readuntil(std::vector<std::string> separators) {
    return readuntil_impl(*this, std::move(separators));
}
Coro<std::string> StreamReader::readuntil(std::string separator) {
    std::vector<std::string> seps;
    seps.push_back(std::move(separator));
    return readuntil_impl(*this, std::move(seps));
}

Coro<std::string> StreamReader::readexactly_impl(StreamReader self, std::ptrdiff_t signed_n) {
    if (signed_n < 0) throw std::invalid_argument("readexactly size can not be less than zero");
    const std::size_t n = static_cast<std::size_t>(signed_n);
    const Ref<detail::StreamCore>& c = self.core();
    if (c->error) std::rethrow_exception(c->error);
    if (n == 0) co_return std::string();
    while (c->available() < n) {
        if (c->eof) {
            std::string partial(c->view());
            c->consume(c->available());
            throw IncompleteReadError(std::move(partial), n);
        }
        co_await c->wait_for_data("readexactly");
        if (c->error) std::rethrow_exception(c->error);
    }
    std::string data(c->view().substr(0, n));
    c->consume(n);
    co_return data;
}

Coro<std::string> StreamReader::readuntil_impl(StreamReader self, std::vector<std::string> separators) {
    const Ref<detail::StreamCore>& c = self.core();
    if (separators.empty()) throw std::invalid_argument("Separator should contain at least one element");
    std::sort(separators.begin(), separators.end(), [](auto& a, auto& b) { return a.size() < b.size(); });
    std::size_t min_len = separators.front().size(), max_len = separators.back().size();
    if (min_len == 0) throw std::invalid_argument("Separator should be at least one-byte string");
    if (c->error) std::rethrow_exception(c->error);
    std::size_t offset = 0;  // where the search resumes: separators may span chunks
    std::size_t match_start = 0, match_end = 0;
    bool found = false;
    for (;;) {
        std::string_view buf = c->view();
        if (buf.size() >= offset + min_len) {
            for (auto& sep : separators) {
                std::size_t i = buf.find(sep, offset);
                if (i != std::string_view::npos) {
                    std::size_t end = i + sep.size();
                    if (!found || end < match_end) {
                        match_end = end;
                        match_start = i;
                        found = true;
                    }
                }
            }
            if (found) break;
            offset = buf.size() + 1 > max_len ? buf.size() + 1 - max_len : 0;
            if (offset > c->limit)
                throw LimitOverrunError("Separator is not found, and chunk exceed the limit", offset);
        }
        if (c->eof) {
            std::string chunk(buf);
            c->consume(buf.size());
            throw IncompleteReadError(std::move(chunk), std::nullopt);
        }
        co_await c->wait_for_data("readuntil");
        if (c->error && !c->eof) std::rethrow_exception(c->error);
    }
    if (match_start > c->limit)
        throw LimitOverrunError("Separator is found, but chunk is longer than limit", match_start);
    std::string chunk(c->view().substr(0, match_end));
    c->consume(match_end);
    co_return chunk;
}

Coro<std::string> StreamReader::readline_impl(StreamReader self) {
    const Ref<detail::StreamCore>& c = self.core();
    std::size_t consumed = 0;
    std::string overrun_msg;
    try {
        std::vector<std::string> seps;
        seps.push_back("\n");
        co_return co_await readuntil_impl(self, std::move(seps));
    } catch (const IncompleteReadError& e) {
        co_return e.partial;
    } catch (const LimitOverrunError& e) {
        consumed = e.consumed;
        overrun_msg = e.what();
    }
    // A line over the limit is dropped (asyncio raises ValueError).
    std::string_view buf = c->view();
    if (buf.size() > consumed && buf[consumed] == '\n')
        c->consume(consumed + 1);
    else
        c->consume(buf.size());
    throw std::invalid_argument(overrun_msg);
}

}  // namespace tulip
