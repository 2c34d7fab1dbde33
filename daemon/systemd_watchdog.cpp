// systemd watchdog pings from an Asio timer on the daemon's event loop.
#include "daemon/systemd_watchdog.hpp"

#include <cstdint>
#include <cstring>

#include <spdlog/spdlog.h>

#include <systemd/sd-daemon.h>

namespace mpiod {

SystemdWatchdog::SystemdWatchdog(boost::asio::any_io_executor ex) : timer_(std::move(ex)) {}

std::chrono::microseconds SystemdWatchdog::start() {
    if (running_) {
        return period_;
    }
    std::uint64_t usec = 0;
    // Environment kept (0): WATCHDOG_PID already stops a child from taking the pings as its own.
    int enabled = sd_watchdog_enabled(0, &usec);
    if (enabled < 0) {
        spdlog::warn("systemd watchdog: ignoring WATCHDOG_USEC/WATCHDOG_PID: {}",
                     std::strerror(-enabled));
        return period_;
    }
    if (enabled == 0 || usec == 0) {
        return period_;
    }
    // Half the interval, as sd_watchdog_enabled(3) advises: one late tick is not yet a miss.
    period_ = std::chrono::microseconds(usec / 2 > 0 ? usec / 2 : 1);
    running_ = true;
    spdlog::info("systemd watchdog: {} ms, pinging every {} ms", usec / 1000,
                 period_.count() / 1000);
    sd_notify(0, "WATCHDOG=1");
    schedule_next();
    return period_;
}

void SystemdWatchdog::stop() {
    running_ = false;
    timer_.cancel();
}

void SystemdWatchdog::schedule_next() {
    timer_.expires_after(period_);
    timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || !running_) {
            return;
        }
        // Sent from the loop itself: if a handler blocks the loop, this ping is late and
        // systemd kills the stuck daemon (WatchdogSignal, then a restart by Restart=).
        sd_notify(0, "WATCHDOG=1");
        schedule_next();
    });
}

} // namespace mpiod
