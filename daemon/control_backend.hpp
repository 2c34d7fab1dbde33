// What the control socket asks of the daemon: snapshots to report and operator actions.
// The daemon implements ControlBackend; ControlServer calls it on the daemon's executor.
#pragma once

#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/control_result.hpp"
#include "core/lu_status.hpp"

namespace mpiod {

/// The daemon's identity and age, for the `status` command.
struct DaemonStatus {
    std::string version;         // MPIOD_VERSION
    long pid = 0;                // getpid()
    Clock::time_point started{}; // when the daemon started (steady clock: uptime only)
    std::string config_file;     // the file given to --config ("" if none)
};

/// Implemented by the daemon. Every call runs on the daemon's executor (the one the
/// ControlServer was built with), so implementations need no locking. Calls must not
/// block: they answer from in-memory state and start any longer work in the background.
class ControlBackend {
public:
    virtual ~ControlBackend() = default;

    virtual DaemonStatus daemon_status() const = 0;
    /// A snapshot of every LU with its paths, in a stable order (configuration order).
    virtual std::vector<LuStatus> lus() const = 0;

    /// Operator actions: each succeeds or fails with a ControlError whose message is for the
    /// operator ("no such path: x" not_found, "unknown policy: y" invalid, ...). Arguments
    /// are never empty.
    virtual ControlResult<> fail_path(const std::string& id) = 0;
    virtual ControlResult<> reinstate_path(const std::string& id) = 0;
    virtual ControlResult<> set_policy(const std::string& lu, const std::string& policy) = 0;

    /// Reloads the configuration file; on failure (a file with errors: invalid; the daemon
    /// stopping: busy) the running configuration stays whole. See Daemon::reload.
    virtual ControlResult<> reload() = 0;

    /// Starts a capacity rescan of the LU (LogicalUnit::async_rescan): not_found, or busy
    /// when one is running. LuStatus::rescanning tells when it is done.
    virtual ControlResult<> resize(const std::string& lu) = 0;

    /// Starts detaching the LU's kernel block device (/dev/nbdX); fails with not_found for
    /// an unknown LU. The device disappears from the LU's exports when done.
    virtual ControlResult<> detach(const std::string& lu) = 0;

    /// Asks the daemon to drain and exit; with `detach` its kernel devices are detached too
    /// (otherwise they stay for a restarted daemon). Called after the reply to `shutdown` has
    /// been written; it must return at once (the daemon stops the ControlServer later).
    virtual void request_shutdown(bool detach) = 0;
};

} // namespace mpiod
