// systemd's service watchdog (WatchdogSec=): pings WATCHDOG=1 from the daemon's own event loop,
// so a loop that stops turning also stops pinging and systemd restarts the service.
#pragma once

#include <chrono>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

namespace mpiod {

/// Threading: create, start and stop on `ex` (the daemon's io_context). Destroy before the
/// io_context.
class SystemdWatchdog {
public:
    explicit SystemdWatchdog(boost::asio::any_io_executor ex);

    /// Reads WATCHDOG_USEC/WATCHDOG_PID (sd_watchdog_enabled); when systemd expects pings from
    /// this process, sends one now and then one every half interval. Returns the ping period,
    /// zero when no watchdog is configured (then it does nothing).
    std::chrono::microseconds start();

    /// Stops pinging (pending timer cancelled). Idempotent.
    void stop();

    /// Time between pings; zero before start() or without a watchdog.
    std::chrono::microseconds period() const noexcept { return period_; }

private:
    void schedule_next();

    boost::asio::steady_timer timer_;
    std::chrono::microseconds period_{0};
    bool running_ = false;
};

} // namespace mpiod
