// The worker thread behind BlockingWorker: a queue of jobs, each posting its outcome back.
#include "exports/kernel/blocking_worker.hpp"

#include <exception>
#include <future>
#include <memory>

#include <signal.h>

#include <boost/asio/post.hpp>

namespace mpiod {

BlockingWorker::BlockingWorker(boost::asio::any_io_executor ex) : ex_(std::move(ex)) {
    // Signals stay with the daemon's threads: a blocking call here is never interrupted.
    sigset_t all;
    sigset_t old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    thread_ = std::thread([this] { loop(); });
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

BlockingWorker::~BlockingWorker() {
    {
        std::lock_guard lock(mutex_);
        closing_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

void BlockingWorker::run(std::function<void()> job, Completion<ControlResult<>> done) {
    // Jobs sit in std::function, which must be copyable: the move-only handler goes in a box.
    auto box = std::make_shared<Completion<ControlResult<>>>(std::move(done));
    auto task = [this, job = std::move(job), box] {
        ControlResult<> outcome = success();
        try {
            job();
        } catch (const std::exception& e) { // the kernel calls' one way to fail
            outcome = ControlError::failed(*e.what() != '\0' ? e.what() : "unknown error");
        } catch (...) {
            outcome = ControlError::failed("unknown error");
        }
        boost::asio::post(ex_, [box, outcome = std::move(outcome)]() mutable {
            std::move (*box)(std::move(outcome));
        });
    };
    {
        std::lock_guard lock(mutex_);
        jobs_.emplace_back(std::move(task));
    }
    wake_.notify_one();
}

void BlockingWorker::run_and_wait(std::function<void()> job) {
    auto task = std::make_shared<std::packaged_task<void()>>(std::move(job));
    auto result = task->get_future();
    {
        std::lock_guard lock(mutex_);
        jobs_.emplace_back([task] { (*task)(); });
    }
    wake_.notify_one();
    result.get();
}

void BlockingWorker::loop() {
    for (;;) {
        std::function<void()> job;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return closing_ || !jobs_.empty(); });
            if (jobs_.empty()) {
                return;
            }
            job = std::move(jobs_.front());
            jobs_.pop_front();
        }
        job();
    }
}

} // namespace mpiod
