// Fuzz target: StreamReader framing (readline, readuntil with one or several
// separators, readexactly, read(n), read()) over random chunkings, limits and
// EOF, each read's outcome checked against a model of asyncio's algorithm
// (Lib/asyncio/streams.py, 3.13) written here from its documented behaviour.
//
// The input is a program: byte 0 picks the limit (1..32); then each op byte
// either feeds a chunk (its bytes drawn from "\nabc\r", so that separators
// are frequent), feeds EOF, or queues a read. Reads run one at a time in a
// task; after every op the driver lets the reader run until it finishes or
// waits for data again, and the model is evaluated at the same points, so
// the model sees the buffer exactly as the reader does.
#include <tulip/core/exceptions.hpp>
#include <tulip/loop/event_loop.hpp>
#include <tulip/streams/stream_reader.hpp>
#include <tulip/task/sleep.hpp>
#include <tulip/task/task.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "input.hpp"

namespace {

using namespace tulip;

enum class Kind { readline, readuntil, readexactly, read };

struct ReadOp {
    Kind kind;
    std::vector<std::string> seps;  // readuntil
    std::ptrdiff_t n = 0;           // readexactly, read
};

// What a read ends in, in a form both sides produce.
struct Outcome {
    enum Type { ok, incomplete, limit, value_error } type = ok;
    std::string data;          // ok: the bytes; incomplete: .partial
    std::size_t consumed = 0;  // limit: LimitOverrunError.consumed
    bool operator==(const Outcome&) const = default;
};

std::string describe(const Outcome& o) {
    static const char* names[] = {"ok", "incomplete", "limit", "value_error"};
    return std::string(names[o.type]) + " data=\"" + o.data + "\" consumed=" + std::to_string(o.consumed);
}

// asyncio's StreamReader, synchronously: try_read is called when the read
// starts and again after each feed; it returns the outcome once the read
// would return in asyncio, nullopt while it would still wait.
struct Model {
    std::string buf;
    bool eof = false;
    std::size_t limit = 0;
    std::size_t offset = 0;  // readuntil's search position, kept across waits

    void start() { offset = 0; }

    std::optional<Outcome> until(std::vector<std::string> seps) {
        // asyncio looks for the separators shortest first and keeps the first
        // match that ends earliest: of two ending at the same byte, the shorter.
        std::stable_sort(seps.begin(), seps.end(), [](auto& a, auto& b) { return a.size() < b.size(); });
        const std::size_t shortest = seps.front().size(), longest = seps.back().size();
        if (buf.size() >= offset + shortest) {
            std::optional<std::size_t> start, end;
            for (auto& s : seps) {
                std::size_t at = buf.find(s, offset);
                if (at != std::string::npos && (!end || at + s.size() < *end)) {
                    start = at;
                    end = at + s.size();
                }
            }
            if (end) {
                if (*start > limit) return Outcome{Outcome::limit, {}, *start};
                Outcome o{Outcome::ok, buf.substr(0, *end), 0};
                buf.erase(0, *end);
                return o;
            }
            offset = buf.size() + 1 > longest ? buf.size() + 1 - longest : 0;
            if (offset > limit) return Outcome{Outcome::limit, {}, offset};
        }
        if (eof) {
            Outcome o{Outcome::incomplete, buf, 0};
            buf.clear();
            return o;
        }
        return std::nullopt;
    }

    std::optional<Outcome> try_read(const ReadOp& op) {
        switch (op.kind) {
            case Kind::readuntil:
                return until(op.seps);
            case Kind::readline: {
                auto r = until({"\n"});
                if (!r) return r;
                if (r->type == Outcome::incomplete) return Outcome{Outcome::ok, r->data, 0};
                if (r->type == Outcome::limit) {
                    // The over-long line is dropped: up to its newline if that is
                    // where the search stopped, else the whole buffer.
                    if (buf.size() > r->consumed && buf[r->consumed] == '\n')
                        buf.erase(0, r->consumed + 1);
                    else
                        buf.clear();
                    return Outcome{Outcome::value_error, {}, 0};
                }
                return r;
            }
            case Kind::readexactly: {
                auto n = static_cast<std::size_t>(op.n);
                if (n == 0) return Outcome{};
                if (buf.size() >= n) {
                    Outcome o{Outcome::ok, buf.substr(0, n), 0};
                    buf.erase(0, n);
                    return o;
                }
                if (eof) {
                    Outcome o{Outcome::incomplete, buf, 0};
                    buf.clear();
                    return o;
                }
                return std::nullopt;
            }
            case Kind::read: {
                if (op.n < 0) {
                    if (!eof) return std::nullopt;
                    Outcome o{Outcome::ok, buf, 0};
                    buf.clear();
                    return o;
                }
                if (op.n == 0) return Outcome{};
                if (buf.empty() && !eof) return std::nullopt;
                Outcome o{Outcome::ok, buf.substr(0, static_cast<std::size_t>(op.n)), 0};
                buf.erase(0, o.data.size());
                return o;
            }
        }
        return std::nullopt;
    }
};

// TULIP_FUZZ_TRACE=1: every feed and every read's outcome on stderr.
bool trace() {
    static const bool on = std::getenv("TULIP_FUZZ_TRACE") != nullptr;
    return on;
}

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "stream_framing: %s\n", what.c_str());
    std::abort();
}

Coro<Outcome> run_read(StreamReader r, ReadOp op) {
    Outcome o;
    try {
        switch (op.kind) {
            case Kind::readline:
                o.data = co_await r.readline();
                break;
            case Kind::readuntil:
                o.data = co_await r.readuntil(op.seps);
                break;
            case Kind::readexactly:
                o.data = co_await r.readexactly(op.n);
                break;
            case Kind::read:
                o.data = co_await r.read(op.n);
                break;
        }
    } catch (const IncompleteReadError& e) {
        o = Outcome{Outcome::incomplete, e.partial, 0};
    } catch (const LimitOverrunError& e) {
        o = Outcome{Outcome::limit, {}, e.consumed};
    } catch (const std::invalid_argument&) {
        o = Outcome{Outcome::value_error, {}, 0};
    }
    co_return o;
}

using fuzz::Input;

Coro<void> drive(Input in) {
    const std::size_t limit = 1 + in.next() % 32;
    StreamReader reader(static_cast<std::ptrdiff_t>(limit));
    Model model;
    model.limit = limit;
    std::deque<ReadOp> queued;
    std::optional<Task<Outcome>> task;
    std::optional<ReadOp> current;
    static const char alphabet[] = "\nabc\r";
    static const std::vector<std::vector<std::string>> separator_sets = {
        {"\n"}, {"\r\n"}, {"ab"}, {"\n", "ab"}, {"abc", "c"}, {"\r\n", "\n", "cab"}};

    // Lets the reader run until its read ends or it waits for data.
    auto settle = [&]() -> Coro<void> {
        for (;;) {
            if (!task && !queued.empty()) {
                current = queued.front();
                queued.pop_front();
                model.start();
                task = get_running_loop().create_task(run_read(reader, *current));
            }
            if (!task) co_return;
            for (int i = 0; i < 16 && !task->done() && reader.core()->data_waiter == nullptr; ++i) co_await sleep(0);
            if (!task->done() && reader.core()->data_waiter == nullptr) fail("the reader neither finished nor waits");
            std::optional<Outcome> expected = model.try_read(*current);
            if (!task->done()) {
                if (expected) fail("tulip waits where asyncio returns " + describe(*expected));
                co_return;
            }
            Outcome got = task->result();
            if (trace())
                std::fprintf(stderr, "read kind=%d n=%td seps=%zu -> %s (model buffer %zu)\n",
                             static_cast<int>(current->kind), current->n, current->seps.size(), describe(got).c_str(),
                             model.buf.size());
            if (!expected) fail("tulip returned " + describe(got) + " where asyncio waits");
            if (!(got == *expected)) fail("tulip returned " + describe(got) + ", asyncio " + describe(*expected));
            task.reset();
            current.reset();
            if (reader.buffered() != model.buf.size())
                fail("buffered " + std::to_string(reader.buffered()) + ", model " + std::to_string(model.buf.size()));
        }
    };

    while (!in.empty()) {
        std::uint8_t op = in.next();
        switch (op % 8) {
            case 0:
            case 1:
            case 2: {  // a chunk of 1..16 bytes
                std::string chunk;
                for (int i = 0, len = 1 + (op >> 3) % 16; i < len && !in.empty(); ++i) chunk += alphabet[in.next() % 5];
                if (model.eof) break;  // asyncio asserts on data after EOF: not a case to fuzz
                if (trace()) std::fprintf(stderr, "feed \"%s\"\n", chunk.c_str());
                reader.feed_data(chunk);
                model.buf += chunk;
                break;
            }
            case 3:
                if (!model.eof) {
                    reader.feed_eof();
                    model.eof = true;
                }
                break;
            case 4:
                queued.push_back({Kind::readline, {}, 0});
                break;
            case 5:
                queued.push_back({Kind::readuntil, separator_sets[(op >> 3) % separator_sets.size()], 0});
                break;
            case 6:
                queued.push_back({Kind::readexactly, {}, (op >> 3) % 24});
                break;
            case 7:
                queued.push_back({Kind::read, {}, static_cast<std::ptrdiff_t>((op >> 3) % 24) - 1});
                break;
        }
        co_await settle();
    }
    // End of the program: EOF releases every read still waiting.
    if (!model.eof) {
        reader.feed_eof();
        model.eof = true;
    }
    co_await settle();
    if (task) fail("a read still waits after EOF");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static EventLoop loop;
    loop.run_until_complete(drive(Input{data, size}));
    return 0;
}
