#include "support/loop_test.hpp"

#include <dirent.h>
#include <unistd.h>

#include <thread>
#include <tulip/loop/loop_access.hpp>

namespace tulip::test {

namespace {
std::size_t count_dir(const char* path) {
    std::size_t n = 0;
    if (DIR* d = ::opendir(path)) {
        while (dirent* e = ::readdir(d))
            if (e->d_name[0] != '.') ++n;
        ::closedir(d);
        --n;  // the DIR's own fd (or nothing for task/: harmless, compared relatively)
    }
    return n;
}
}  // namespace

#if defined(__SANITIZE_THREAD__)
// TSan starts a thread of its own at the first pthread_create. Start it here,
// before any test counts threads, so that the counts compare like for like.
[[maybe_unused]] const bool tsan_thread_started = [] {
    std::thread([] {}).join();
    return true;
}();
#endif

std::size_t open_fd_count() { return count_dir("/proc/self/fd"); }
std::size_t thread_count() { return count_dir("/proc/self/task"); }

void LoopTest::SetUp() {
    fds_before_ = open_fd_count();
    threads_before_ = thread_count();
    EventLoopOptions o;
    o.virtual_time = use_virtual_time();
    loop_ = std::make_unique<EventLoop>(o);
    loop_->set_exception_handler([this](EventLoop&, const ExceptionContext& ctx) { handler_calls.push_back(ctx); });
    set_log_sink([this](LogLevel, const std::string& m) { logs.push_back(m); });
}

void LoopTest::TearDown() {
    if (loop_ && !loop_->is_closed()) {
        auto pending = all_tasks(*loop_);
        EXPECT_TRUE(pending.empty()) << pending.size() << " task(s) still pending at the end of the test, first: "
                                     << pending.front().get_name();
        if (!pending.empty() && HasFailure()) {
            // After a failure the pending tasks may point into the test's
            // destroyed locals: running them to cancel them would crash and
            // hide the report. Leak the loop instead; the test has failed.
            (void)loop_.release();
            set_log_sink(nullptr);
            return;
        }
        cancel_all_tasks(*loop_);
        loop_->run_until_complete(tulip::shutdown_default_executor(*loop_));
        loop_->close();
    }
    loop_.reset();
    set_log_sink(nullptr);
    if (!expect_handler_calls) {
        for (auto& c : handler_calls)
            ADD_FAILURE() << "unexpected exception-handler call: " << c.message << " ("
                          << describe_exception(c.exception) << ")";
    }
    EXPECT_EQ(open_fd_count(), fds_before_) << "the test leaked file descriptors";
#if defined(__SANITIZE_THREAD__)
    return;  // TSan runs a background thread of its own
#endif
    // Joined threads leave /proc/self/task promptly; give the kernel a moment.
    for (int i = 0; i < 200 && thread_count() > threads_before_; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_LE(thread_count(), threads_before_) << "the test left threads running";
}

void LoopTest::run_once() { tulip::detail::LoopAccess::run_once(*loop_); }

void LoopTest::run_briefly() {
    // As CPython: run a task that yields once; everything already scheduled
    // gets to run before it completes.
    loop_->run_until_complete([]() -> Coro<void> { co_return; }());
}

}  // namespace tulip::test
