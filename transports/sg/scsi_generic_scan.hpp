// The SCSI generic (sg) devices sysfs lists: node, peripheral type, H:C:T:L, INQUIRY strings,
// device state and block device of each, so that the daemon can turn every disk into a path
// without a configuration line per device.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mpiod {

/// One /sys/class/scsi_generic entry. What sysfs did not say stays at its default.
struct ScsiGenericDevice {
    std::string name;           // "sg0"
    std::filesystem::path node; // "/dev/sg0"
    int type = -1;              // SCSI peripheral device type (device/type; 0 = disk)
    std::string hctl;           // "2:0:0:0" (the basename of the device link's target)
    std::string vendor, model;  // device/vendor, device/model without their padding
    std::string state;          // device/state ("running", "offline", ...)
    std::string block;          // "sda" when device/block/<name> exists, else empty
};

/// Every <sysfs_root>/class/scsi_generic entry, sorted by number (sg2 before sg10; names
/// without a number last). Missing or unreadable attributes stay at their defaults; a
/// missing class directory (a host without the sg module) gives an empty list. Never throws
/// for anything sysfs holds or lacks.
std::vector<ScsiGenericDevice> scan_scsi_generic(const std::filesystem::path& sysfs_root = "/sys");

/// The sg node of a block device ("sda" or "/dev/sda" -> "/dev/sg0") through
/// <sysfs_root>/block/<name>/device/scsi_generic/, or nullopt (no such disk, a partition, no
/// sg module). Never throws for anything sysfs holds or lacks.
std::optional<std::filesystem::path>
scsi_generic_of_block(const std::string& block_name,
                      const std::filesystem::path& sysfs_root = "/sys");

} // namespace mpiod
