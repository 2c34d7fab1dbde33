// SCSI generic hotplug for `scan: scsi_generic`: the kernel's uevents of the subsystem,
// settled into one rescan shortly after the last of a burst (a new HBA brings many devices).
#pragma once

#include <functional>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

namespace mpiod {

class UeventMonitor;

/// Threading: create and call on `ex`; `rescan` runs on `ex`.
class ScsiHotplug {
public:
    ScsiHotplug(boost::asio::any_io_executor ex, std::function<void()> rescan);
    ~ScsiHotplug();
    ScsiHotplug(const ScsiHotplug&) = delete;
    ScsiHotplug& operator=(const ScsiHotplug&) = delete;

    /// Follows the uevents while `enabled` (a reload may turn it on or off). Where the kernel
    /// or the sandbox refuses the socket it says so; new devices then wait for a reload.
    void follow(bool enabled);
    /// Stops following and drops a rescan not yet run.
    void stop();

private:
    boost::asio::any_io_executor ex_;
    boost::asio::steady_timer settle_;
    std::function<void()> rescan_;
    std::unique_ptr<UeventMonitor> uevents_;
};

} // namespace mpiod
