// src/http/one_waiter.hpp — what the server's and the client's HTTP
// connections share (internal): the one coroutine that waits on a
// connection, and the protocol that forwards a transport's events to it.
#pragma once

#include <coroutine>
#include <exception>
#include <stdexcept>
#include <string_view>

#include <tulip/core/ref.hpp>
#include <tulip/net/protocol.hpp>
#include <tulip/sync/waiters.hpp>

namespace tulip::http::detail {

// One coroutine at a time (a connection's task, or the handler or response
// reader it runs) parks here until wake(). Waiting is an awaiter, so it
// costs no coroutine frame.
class OneWaiter {
public:
    class Wait {
    public:
        explicit Wait(OneWaiter& s) noexcept : s_(s) {}
        Wait(const Wait&) = delete;
        ~Wait() {
            if (s_.waiter_ == &w_) s_.waiter_ = nullptr;
        }
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> h) {
            if (s_.waiter_) throw std::logic_error("another coroutine is already waiting on this HTTP connection");
            w_.park(h);
            s_.waiter_ = &w_;
        }
        void await_resume() {
            if (s_.waiter_ == &w_) s_.waiter_ = nullptr;
            w_.raise_if_cancelled();
        }

    private:
        OneWaiter& s_;
        tulip::detail::Waiter w_;
    };

    // The waiting coroutine resumes in a later iteration (if any waits).
    void wake() noexcept {
        if (tulip::detail::Waiter* w = waiter_) {
            waiter_ = nullptr;
            if (!w->done()) w->set_result();
        }
    }

private:
    tulip::detail::Waiter* waiter_ = nullptr;
};

// The protocol a transport drives: forwards each event to the connection C
// (made, data, eof, lost, pause_writing, resume_writing), which it holds.
template <class C>
class ForwardingProtocol final : public Protocol {
public:
    explicit ForwardingProtocol(Ref<C> c) : c_(std::move(c)) {}
    void connection_made(Transport& t) override { c_->made(t); }
    void data_received(std::string_view data) override { c_->data(data); }
    bool eof_received() override { return c_->eof(); }
    void connection_lost(std::exception_ptr exc) override { c_->lost(exc); }
    void pause_writing() override { c_->pause_writing(); }
    void resume_writing() override { c_->resume_writing(); }

private:
    Ref<C> c_;
};

}  // namespace tulip::http::detail
