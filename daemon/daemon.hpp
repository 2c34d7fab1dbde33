// The daemon: builds LUs and their paths from the configuration, exports each LU once
// its geometry is known, serves the control socket, applies reloads (config_diff) and
// shuts down cleanly on SIGTERM (shutdown_sequence).
#pragma once

#include <memory>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "config/config_diff.hpp"
#include "config/daemon_config.hpp"
#include "core/logical_unit.hpp"
#include "daemon/control_backend.hpp"
#include "daemon/control_server.hpp"
#include "daemon/kernel_exports.hpp"
#include "daemon/lu_bindings.hpp"
#include "daemon/lu_links.hpp"
#include "daemon/lu_table.hpp"
#include "daemon/path_discovery.hpp"
#include "daemon/scsi_hotplug.hpp"
#include "daemon/shutdown_sequence.hpp"
#include "daemon/systemd_watchdog.hpp"
#include "exports/metrics/metrics_http_server.hpp"
#include "exports/nbd/nbd_server.hpp"

namespace mpiod {

class Daemon final : public ControlBackend {
public:
    explicit Daemon(DaemonConfig config);
    ~Daemon() override;

    /// Runs until shutdown; returns the process exit code.
    int run();

    // ControlBackend
    DaemonStatus daemon_status() const override;
    std::vector<LuStatus> lus() const override;
    ControlResult<> fail_path(const std::string& id) override;
    ControlResult<> reinstate_path(const std::string& id) override;
    ControlResult<> set_policy(const std::string& lu, const std::string& policy) override;
    void request_shutdown(bool detach) override;
    ControlResult<> detach(const std::string& lu) override;
    ControlResult<> resize(const std::string& lu) override;
    /// Live reload (SIGHUP, mpiod-ctl reload): a file with errors changes nothing; otherwise
    /// added paths and LUs start, removed paths finish their I/O and go, LUs left without a
    /// path stop, changed LU settings and the log level apply at once. LUs that did not change
    /// are not touched. Export, control socket, metrics and alias changes need a restart (logged).
    ControlResult<> reload() override;

private:
    void build();
    std::shared_ptr<LogicalUnit> create_lu(const LuConfig& lc);
    /// A configured path (its transport made from the URI) joins the LU.
    ControlResult<> add_path(LogicalUnit& lu, const LuConfig& lc, const PathConfig& pc);
    ControlResult<> add_path(LogicalUnit& lu, const LuConfig& lc, const std::string& id,
                             const std::string& wwid, std::unique_ptr<Transport> transport);
    void on_path_identified(const std::string& id, const std::string& wwid,
                            std::unique_ptr<Transport> transport);
    std::string bound_name(const std::string& wwid);
    std::filesystem::path socket_of(const LogicalUnit& lu) const;
    void retire_lu(const std::shared_ptr<LogicalUnit>& lu);
    void export_lu(const std::shared_ptr<LogicalUnit>& lu);
    /// With `metrics:`: serves the status snapshots as Prometheus text.
    void start_metrics();
    void notify_ready_if_done();
    void shutdown(const char* why, bool detach);
    bool stopping() const noexcept { return shutdown_ && shutdown_->started(); }
    /// The configuration as it runs: config_ with each running LU's name and settings
    /// (a bindings name, a policy set with mpiod-ctl), for diff_config().
    DaemonConfig running_config() const;
    /// Applies a validated configuration to the running daemon (reload, hotplug rescan).
    void apply_config(DaemonConfig next);
    void start_path(const AddedPath& added);
    /// The scan's paths again: added and vanished devices are applied like a reload.
    void rescan_scsi_generic();

    DaemonConfig config_;
    Clock::time_point started_ = Clock::now();
    boost::asio::io_context io_;
    boost::asio::signal_set signals_;
    boost::asio::steady_timer startup_timer_;
    ScsiHotplug hotplug_; // with scan.scsi_generic: uevents trigger rescan_scsi_generic()
    SystemdWatchdog watchdog_;
    NbdServer server_;
    std::unique_ptr<KernelExports> kernel_exports_; // after server_: destroyed before it
    std::unique_ptr<ControlServer> control_;
    std::unique_ptr<MetricsHttpServer> metrics_; // with `metrics:`: GET /metrics
    LuTable lus_;
    std::unique_ptr<PathDiscovery> discovery_;   // after lus_: destroyed first
    std::unique_ptr<LuBindings> bindings_;       // read on first use (SCSI LUs without alias)
    std::unique_ptr<LuLinks> links_;             // <export.dir>/by-alias, by-wwid
    std::unique_ptr<ShutdownSequence> shutdown_; // uses the above: destroyed first
    std::size_t exported_ = 0;
    bool notified_ready_ = false;
    int exit_code_ = 0;
};

} // namespace mpiod
