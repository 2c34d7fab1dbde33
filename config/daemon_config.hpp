// The daemon's configuration as typed values, and the YAML loader that produces it.
// The reference of every key is config/README.md; examples are in config/examples/.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "config/config_error.hpp"
#include "core/lu_settings.hpp"

namespace mpiod {

/// One path: where it goes and which LU it reaches.
struct PathConfig {
    std::string id;  // unique in the daemon, [A-Za-z0-9_.-]+
    std::string uri; // nbd://, nbds://, nbd+unix://, nbds+unix://, nbd+vsock://, nbds+vsock://,
                     // iscsi://host[:port]/iqn/lun, sg:///dev/sgN
    /// The LU's identity: required for NBD (no VPD page to report one); for SCSI paths
    /// (iscsi, sg) empty = read from VPD 0x83 at run time.
    std::string wwid;
    int line = 0;         // 1-based line of the path's entry, for later messages
    bool scanned = false; // added by the daemon's scan, not written in the file
};

/// One logical unit: every path with the same wwid, plus its settings.
struct LuConfig {
    std::string wwid;
    std::string alias;        // export name and socket name; defaults to the wwid
    bool alias_given = false; // configured (else the wwid, or a bindings name for SCSI LUs)
    LuSettings settings;      // built-in defaults <- `defaults:` <- this LU's `lus:` entry
    std::map<std::string, std::uint32_t> weights;    // path id -> weight (unset paths: 1)
    std::map<std::string, std::uint32_t> throughput; // path id -> throughput (unset paths: 1)
    std::vector<std::string> standby;                // path ids in the standby subset
    std::vector<std::string> path_ids; // this LU's paths in configured (priority) order
    int line = 0; // the `lus:` entry's line, or the first path's when there is no entry

    std::uint32_t weight_of(const std::string& path_id) const;
    std::uint32_t throughput_of(const std::string& path_id) const;
    bool is_standby(const std::string& path_id) const;
};

struct ExportConfig {
    std::filesystem::path dir = "/run/mpiod"; // one Unix socket per LU: <dir>/<alias>.sock
    std::vector<std::string> tcp;             // loopback "127.0.0.1:10809" / "[::1]:10809"
    /// Kernel block device per LU: auto (nbd when the kernel has it, else fuse), nbd
    /// (/dev/nbdX), fuse (FUSE file + /dev/loopN), fuse-file (the FUSE file only), socket
    /// (none: the Unix sockets only).
    std::string kind = "auto";
    std::filesystem::path fuse_dir; // where FUSE files live; empty = <dir>/fuse
    unsigned queues = 0;            // sockets per /dev/nbdX; 0 = min(4, CPUs)
    /// How long the kernel holds I/O for a new mpiod to reattach after this one went away.
    std::chrono::seconds reattach_timeout{120};
    /// Detach kernel devices when mpiod stops (SIGTERM). Off: a restart keeps /dev/nbdX and
    /// the filesystems on it; `mpiod-ctl shutdown --detach` detaches anyway.
    bool detach_on_stop = false;

    std::filesystem::path fuse_mount_dir() const {
        return fuse_dir.empty() ? dir / "fuse" : fuse_dir;
    }
};

/// Paths the daemon finds itself, on top of the configured ones.
struct ScanConfig {
    /// Every SCSI generic device of a disk (/sys/class/scsi_generic/sgN, type 0) becomes a
    /// path "sgN" (unless a configured sg:// path names that device), grouped by its WWID.
    bool scsi_generic = false;
    std::vector<std::string> exclude; // device names ("sg0") never to scan
};

/// True when `metrics` names a Unix socket (an absolute path) rather than ADDRESS:PORT.
inline bool metrics_on_unix_socket(const std::string& metrics) {
    return !metrics.empty() && metrics.front() == '/';
}

/// True for the URI schemes of SCSI paths, whose identity comes from VPD 0x83.
bool is_scsi_uri(const std::string& uri);

struct DaemonConfig {
    std::filesystem::path source;  // the file loaded, or parse_config's source_name
    LuSettings defaults;           // built-in defaults <- `defaults:`
    std::vector<PathConfig> paths; // in file order, which is priority order within an LU
    std::vector<LuConfig> lus;     // one per distinct path wwid, in order of first use
    ExportConfig exports;
    ScanConfig scan;
    std::filesystem::path control_socket = "/run/mpiod/control.sock";
    /// Where `GET /metrics` (Prometheus text) is served: "" = off (the default), a loopback
    /// "127.0.0.1:9810" / "[::1]:9810", or an absolute Unix socket path
    /// ("/run/mpiod/metrics.sock").
    std::string metrics;
    std::string log_level = "info"; // trace|debug|info|warn|error
    /// After handling events, keep polling this long before sleeping in epoll (0 = off):
    /// trades CPU for the wake-up latency of each I/O hop.
    std::chrono::microseconds busy_poll{0};
    /// NAME WWID lines naming the LUs found by SCSI identity that have no alias (mpatha...).
    std::filesystem::path bindings_file = "/var/lib/mpiod/bindings";
};

/// Reads and validates a configuration file. Throws ConfigError (also for an unreadable
/// file); never anything else for bad content.
DaemonConfig load_config(const std::filesystem::path& file);

/// Validates configuration text; `source_name` stands for the file name in errors.
DaemonConfig parse_config(const std::string& yaml_text, const std::string& source_name);

} // namespace mpiod
