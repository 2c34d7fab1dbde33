// Kernel uevents (NETLINK_KOBJECT_UEVENT, the kernel's own multicast group, so no udevd is
// needed) for one subsystem: the daemon learns that a SCSI generic device came or went and
// rescans, the way multipathd follows hotplug.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "core/control_result.hpp"

namespace mpiod {

struct Uevent {
    std::string action;    // "add", "remove", "change", ...
    std::string devpath;   // "/devices/.../scsi_generic/sg2"
    std::string subsystem; // "scsi_generic"
    std::string devname;   // "sg2" (DEVNAME), may be empty
};

/// Parses one kernel uevent message ("ACTION@DEVPATH\0KEY=VALUE\0..."); nullopt for anything
/// else (udevd's "libudev" messages, truncated or malformed text).
std::optional<Uevent> parse_uevent(std::span<const char> message);

/// Threading: create and call on `ex`; the callback runs on `ex`.
class UeventMonitor {
public:
    using Handler = std::function<void(const Uevent&)>;

    UeventMonitor(boost::asio::any_io_executor ex, std::string subsystem, Handler handler);
    ~UeventMonitor();
    UeventMonitor(const UeventMonitor&) = delete;
    UeventMonitor& operator=(const UeventMonitor&) = delete;

    /// Opens the netlink socket; fails (saying why) when the kernel or the sandbox refuses.
    ControlResult<> start();
    void stop() noexcept;

private:
    void wait();
    void drain();

    boost::asio::posix::stream_descriptor sock_;
    std::string subsystem_;
    Handler handler_;
    bool stopped_ = false;
};

} // namespace mpiod
