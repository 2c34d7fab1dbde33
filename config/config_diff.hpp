// What a reload changes: the running configuration against the next one, as a list of
// changes the daemon applies (Daemon::apply_config). Pure: no LU, socket or log is touched.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "config/daemon_config.hpp"

namespace mpiod {

/// A path to start: with a wwid it joins (or creates) the LU of `lu`; without one it is
/// identified at run time (`lu` is then nullopt).
struct AddedPath {
    PathConfig path;
    std::optional<LuConfig> lu;
};

/// An LU that exists in both configurations with other settings (`settings` are the new ones).
struct ChangedLu {
    std::string wwid;
    LuSettings settings;
};

/// A configured alias that differs from the running LU's name: it needs a restart.
struct RenamedLu {
    std::string wwid;
    std::string alias; // the new one
};

struct ConfigDiff {
    /// Paths gone or changed (another uri or wwid), in running order; a changed path is
    /// in `added_paths` too, so it goes first and comes back.
    std::vector<std::string> removed_paths;
    std::vector<AddedPath> added_paths; // new or changed, in the next file's order
    std::vector<ChangedLu> changed_lus; // in the next file's order
    std::vector<RenamedLu> renamed_lus;
    /// Daemon-wide settings only a restart changes ("export", "control_socket", "metrics",
    /// "bindings_file"): the running values stay.
    std::vector<std::string> restart_only;
    std::optional<std::string> log_level;               // when it changed
    std::optional<std::chrono::microseconds> busy_poll; // when it changed
};

/// The changes from `running` to `next`. LU settings and aliases are compared by wwid
/// against `running.lus`, which the daemon fills from its running LUs (so an LU's name
/// from the bindings file and a policy set with mpiod-ctl count as what runs).
ConfigDiff diff_config(const DaemonConfig& running, const DaemonConfig& next);

/// The LU configuration a path with `wwid` joins: its `lus:` entry, else the defaults (alias
/// the wwid, not given: SCSI LUs then take a bindings name).
LuConfig lu_config_for(const DaemonConfig& config, const std::string& wwid);

} // namespace mpiod
