// Where I/O waits while an LU has no usable path, per no_path_retry: fail at once, queue
// forever, or queue for a while and then fail with EIO. It also remembers since when the
// LU has been without a path, which the LU's status shows ("queueing", "failing").
#pragma once

#include <cstddef>

#include "core/clock.hpp"
#include "core/engine_io.hpp"
#include "core/latency_histogram.hpp"
#include "core/lu_identity.hpp"
#include "core/lu_settings.hpp"

namespace mpiod {

class NoPathQueue {
public:
    explicit NoPathQueue(const LuIdentity& lu) : lu_(lu) {}
    /// Requests still queued are released without completion (the LU drains first).
    ~NoPathQueue();
    NoPathQueue(const NoPathQueue&) = delete;
    NoPathQueue& operator=(const NoPathQueue&) = delete;

    /// False when new I/O must fail at once: no_path_retry is `fail`, or its time ran out
    /// and no path has returned since.
    bool accepts(const NoPathRetry& policy) const noexcept;
    void push(EngineIo& io, const NoPathRetry& policy, Clock::time_point now);
    /// Everything queued, in arrival order; the queue is empty afterwards. How long each
    /// waited (until `now`) is counted in waits().
    EngineIoList take_all(Clock::time_point now);

    /// The LU lost its last usable path.
    void paths_lost(Clock::time_point now, const NoPathRetry& policy);
    /// A path is usable again: new I/O may queue again.
    void paths_back(Clock::time_point now);
    /// True once queued I/O has waited as long as no_path_retry allows; the queue then
    /// refuses new I/O until a path returns and the caller fails what take_all() returns.
    bool expired(Clock::time_point now, const NoPathRetry& policy);

    bool all_down() const noexcept { return all_down_; }
    bool failing() const noexcept { return failing_; }
    bool empty() const noexcept { return queued_.empty(); }
    std::size_t size() const noexcept { return queued_.size(); }
    /// How long each I/O that left the queue had waited in it (µs).
    const LatencyHistogram& waits() const noexcept { return waits_; }

private:
    const LuIdentity& lu_;
    EngineIoList queued_;
    LatencyHistogram waits_;
    bool all_down_ = false; // no usable path since all_down_since_
    Clock::time_point all_down_since_{};
    bool failing_ = false; // no_path_retry expired: new I/O fails until a path returns
};

} // namespace mpiod
