// Runs blocking kernel calls (generic netlink, loop ioctls, mount/umount) one at a time on a
// thread of their own, and reports each outcome back on an executor.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include <boost/asio/any_io_executor.hpp>

#include "core/completion.hpp"
#include "core/control_result.hpp"

namespace mpiod {

/// Why a thread: the kernel may need the executor's thread while such a call is in progress
/// (it sends I/O to /dev/nbdX during CONNECT, FUSE requests while a loop device opens its file),
/// so these calls must never run on the executor. Jobs run in submission order, which also
/// orders an attach before a later detach of the same device.
///
/// Construct and call run() on any thread; `done` always runs on the executor given here.
/// The destructor finishes the queued jobs, then joins; their completions are posted to the
/// executor (and dropped with it if it no longer runs), so destroy the worker before the
/// io_context.
class BlockingWorker {
public:
    explicit BlockingWorker(boost::asio::any_io_executor ex);
    ~BlockingWorker();
    BlockingWorker(const BlockingWorker&) = delete;
    BlockingWorker& operator=(const BlockingWorker&) = delete;

    /// Runs `job` on the worker thread, then `done` on the executor: failed with the
    /// exception's message if `job` threw, else success. Results travel in state the job and
    /// `done` share.
    void run(std::function<void()> job, Completion<ControlResult<>> done);

    /// Runs `job` on the worker thread and waits for it (for teardown when the executor no
    /// longer runs). Exceptions propagate. Never call it from the worker thread itself.
    void run_and_wait(std::function<void()> job);

private:
    void loop();

    boost::asio::any_io_executor ex_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::function<void()>> jobs_;
    bool closing_ = false;
    std::thread thread_;
};

} // namespace mpiod
