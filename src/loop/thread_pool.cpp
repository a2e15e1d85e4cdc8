#include <tulip/loop/thread_pool.hpp>

#include <pthread.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace tulip {

struct ThreadPoolExecutor::State {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<Job> jobs;
    std::size_t idle = 0;
    bool shutdown = false;
    // Guarded by mu. Emptied by shutdown(), so a worker that outlives the
    // executor (shutdown(wait=false)) never destroys a joinable thread here.
    std::vector<std::thread> threads;
};

ThreadPoolExecutor::ThreadPoolExecutor(std::size_t max_workers, std::string thread_name_prefix)
    : st_(std::make_shared<State>()),
      max_workers_(max_workers ? max_workers
                               : std::min<std::size_t>(32, std::max(1u, std::thread::hardware_concurrency()) + 4)),
      prefix_(std::move(thread_name_prefix)) {}

ThreadPoolExecutor::~ThreadPoolExecutor() { shutdown(true); }

void ThreadPoolExecutor::submit_job(Job job) {
    std::unique_lock g(st_->mu);
    if (st_->shutdown) throw std::runtime_error("cannot schedule new futures after shutdown");
    st_->jobs.push_back(std::move(job));
    // Start a thread only when none is idle (Python's _adjust_thread_count).
    if (st_->idle < st_->jobs.size() && st_->threads.size() < max_workers_) {
        st_->threads.emplace_back(&ThreadPoolExecutor::worker, st_);
        std::string name = (prefix_ + "-" + std::to_string(st_->threads.size())).substr(0, 15);
        ::pthread_setname_np(st_->threads.back().native_handle(), name.c_str());
    }
    g.unlock();
    st_->cv.notify_one();
}

void ThreadPoolExecutor::worker(std::shared_ptr<State> st) {
    std::unique_lock g(st->mu);
    for (;;) {
        ++st->idle;
        st->cv.wait(g, [&] { return st->shutdown || !st->jobs.empty(); });
        --st->idle;
        if (st->jobs.empty()) return;  // shut down and drained
        Job job = std::move(st->jobs.front());
        st->jobs.pop_front();
        g.unlock();
        job();  // a Job must not throw: the wrappers of run_in_executor catch
        job = Job();
        g.lock();
    }
}

void ThreadPoolExecutor::shutdown(bool wait) {
    std::vector<std::thread> threads;
    {
        std::lock_guard g(st_->mu);
        st_->shutdown = true;
        threads.swap(st_->threads);
    }
    st_->cv.notify_all();
    for (auto& t : threads) {
        if (wait)
            t.join();
        else
            t.detach();
    }
}

}  // namespace tulip
