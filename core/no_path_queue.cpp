// The no-path queue and its time bound.
#include "core/no_path_queue.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>

#include <spdlog/spdlog.h>

#include "core/log_context.hpp"

namespace mpiod {

namespace {

double millis(Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

} // namespace

NoPathQueue::~NoPathQueue() {
    queued_.clear_and_dispose([](EngineIo* io) { delete io; });
}

bool NoPathQueue::accepts(const NoPathRetry& policy) const noexcept {
    return policy.mode != NoPathRetry::Mode::fail && !failing_;
}

void NoPathQueue::push(EngineIo& io, const NoPathRetry& policy, Clock::time_point now) {
    if (queued_.empty()) {
        const LogScope scope({lu_.name, lu_.wwid, {}, "lu_queueing"});
        spdlog::warn("lu {}: no usable path, queueing I/O ({})", lu_.name, to_string(policy));
    }
    io.queued = now;
    queued_.push_back(io);
}

EngineIoList NoPathQueue::take_all(Clock::time_point now) {
    for (const EngineIo& io : queued_) {
        const auto waited = std::chrono::duration_cast<std::chrono::microseconds>(now - io.queued);
        waits_.record(static_cast<std::uint64_t>(std::max<std::int64_t>(waited.count(), 0)));
    }
    EngineIoList out;
    out.swap(queued_);
    return out;
}

void NoPathQueue::paths_lost(Clock::time_point now, const NoPathRetry& policy) {
    if (all_down_) {
        return;
    }
    all_down_ = true;
    all_down_since_ = now;
    const LogScope scope({lu_.name, lu_.wwid, {}, "lu_all_paths_down"});
    spdlog::error("lu {}: all paths are down; I/O queues per no_path_retry={}", lu_.name,
                  to_string(policy));
}

void NoPathQueue::paths_back(Clock::time_point now) {
    if (all_down_) {
        const LogScope scope({lu_.name, lu_.wwid, {}, "lu_resumed"});
        spdlog::info("lu {}: a path is usable again after {:.0f} ms without one", lu_.name,
                     millis(now - all_down_since_));
    }
    all_down_ = false;
    failing_ = false;
}

bool NoPathQueue::expired(Clock::time_point now, const NoPathRetry& policy) {
    if (queued_.empty() || !all_down_ || policy.mode != NoPathRetry::Mode::timeout ||
        now - all_down_since_ < policy.timeout) {
        return false;
    }
    const LogScope scope({lu_.name, lu_.wwid, {}, "lu_no_path_timeout"});
    spdlog::error("lu {}: no path for {:.0f} ms: failing {} queued I/O with EIO", lu_.name,
                  millis(now - all_down_since_), queued_.size());
    failing_ = true;
    return true;
}

} // namespace mpiod
