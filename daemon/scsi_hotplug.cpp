// SCSI generic uevents -> one rescan after a quiet moment.
#include "daemon/scsi_hotplug.hpp"

#include <spdlog/spdlog.h>

#include "core/clock.hpp"
#include "daemon/uevent_monitor.hpp"

namespace mpiod {

namespace {

constexpr Millis hotplug_settle{250}; // quiet time after the last uevent before a rescan

} // namespace

ScsiHotplug::ScsiHotplug(boost::asio::any_io_executor ex, std::function<void()> rescan)
    : ex_(ex), settle_(std::move(ex)), rescan_(std::move(rescan)) {}

ScsiHotplug::~ScsiHotplug() = default;

void ScsiHotplug::follow(bool enabled) {
    if (!enabled) {
        uevents_.reset();
        return;
    }
    if (uevents_) {
        return;
    }
    uevents_ = std::make_unique<UeventMonitor>(ex_, "scsi_generic", [this](const Uevent& e) {
        spdlog::debug("uevent: {} {}", e.action, e.devname.empty() ? e.devpath : e.devname);
        settle_.expires_after(hotplug_settle);
        settle_.async_wait([this](boost::system::error_code ec) {
            if (!ec) {
                rescan_();
            }
        });
    });
    if (auto started = uevents_->start(); !started) {
        spdlog::warn("scan: no hotplug ({}); new SCSI devices appear at the next reload",
                     started.error().message);
        uevents_.reset();
    }
}

void ScsiHotplug::stop() {
    uevents_.reset();
    settle_.cancel();
}

} // namespace mpiod
