// The paths the daemon finds itself (config `scan:`), added to the configured ones before
// the daemon builds or reloads: every SCSI generic disk becomes a path "sgN" identified by
// VPD 0x83 at run time, like a configured iSCSI path without a wwid.
#pragma once

#include <filesystem>

#include "config/daemon_config.hpp"

namespace mpiod {

/// With config.scan.scsi_generic: appends a PathConfig {id "sgN" (or "sgN.scan" when a
/// configured path already has that id), uri "sg:///dev/sgN", no wwid} for every device of
/// peripheral type 0 (disk) under <sysfs_root>/class/scsi_generic, except excluded ones and
/// devices a configured sg:// path already names (same device number, or same node when it
/// cannot be stat'ed). Logs what it adds. Without the scan: does nothing.
void add_scanned_paths(DaemonConfig& config, const std::filesystem::path& sysfs_root = "/sys");

} // namespace mpiod
