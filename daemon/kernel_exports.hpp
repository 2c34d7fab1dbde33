// The kernel block device of each LU, chosen by kind: none ("socket"), /dev/nbdX through
// netlink ("nbd"), a FUSE file with /dev/loopN on top ("fuse"), the FUSE file alone
// ("fuse-file"), or nbd when the kernel has the nbd module and fuse otherwise ("auto").
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "config/daemon_config.hpp"
#include "core/completion.hpp"
#include "core/control_result.hpp"
#include "core/logical_unit.hpp"
#include "core/lu_settings.hpp"
#include "exports/kernel/blocking_worker.hpp"
#include "exports/kernel/fuse_export.hpp"
#include "exports/kernel/loop_device.hpp"
#include "exports/kernel/netlink_nbd_device.hpp"

namespace mpiod {

class NbdServer;

/// Threading: create and call on `ex` (the daemon's io_context); blocking kernel calls run on
/// worker threads (see NetlinkNbdDevice, FuseExport, LoopDevice). Destroy before the
/// io_context and the NbdServer.
class KernelExports {
public:
    enum class Kind { socket, nbd, fuse, fuse_file, automatic };

    /// nullopt for an unknown kind.
    static std::optional<Kind> parse_kind(std::string_view text) noexcept;
    static std::string_view to_string(Kind kind) noexcept;

    /// Takes the kind, FUSE directory (created if missing), queues and reattach timeout from
    /// `config`. Throws std::invalid_argument for an unknown kind (the message lists the
    /// valid ones).
    KernelExports(boost::asio::any_io_executor ex, NbdServer& server, const ExportConfig& config);
    /// stop_now() for whatever async_stop() did not take down.
    ~KernelExports();
    KernelExports(const KernelExports&) = delete;
    KernelExports& operator=(const KernelExports&) = delete;

    using AttachHandler = Completion<ControlResult<std::string> /*device*/>;

    /// Gives the ready LU its kernel device; `done(device)` on `ex` with the device node
    /// ("/dev/nbd0", "/dev/loop3"), the FUSE file for fuse-file, or "" for socket; a failed
    /// attach completes with its error. The WWID becomes the nbd backend identifier (a
    /// reattach after a restart finds the device by it).
    void async_attach(std::shared_ptr<LogicalUnit> lu, AttachHandler done);

    /// The nbd device options for an LU: the kernel's request timeout must exceed the longest
    /// an I/O can take in mpiod (io_timeout on every path, then no_path_retry), or the kernel
    /// would kill a socket and resend a request mpiod is still working on. With queueing
    /// forever, one socket and no kernel timeout at all.
    /// `queues` sockets (0 = min(4, CPUs)); `reattach` is how long the kernel holds I/O for a
    /// restarted daemon.
    static NbdDeviceOptions
    nbd_options_for(const LuSettings& settings, std::size_t paths, unsigned queues = 0,
                    std::chrono::seconds reattach = std::chrono::seconds(120));

    /// Takes the kernel devices down after any attach in progress, then runs `done` on `ex`.
    /// FUSE files and their loop devices always go (they cannot outlive the process). nbd
    /// devices are detached (DISCONNECT: the kernel fails the I/O it still sends) only with
    /// `detach_nbd`; otherwise they stay bound to their WWID, the kernel holds their I/O for
    /// the reattach timeout, and the next mpiod reattaches them (restart without unmount).
    void async_stop(bool detach_nbd, std::function<void()> done);
    /// Detaches one LU's nbd device (`mpiod-ctl detach`); `done` on `ex` (not_found when the
    /// LU has no nbd device). FUSE files stay until the daemon stops.
    void async_detach(const std::string& lu_name, Completion<ControlResult<>> done);
    /// Blocking teardown for when `ex` no longer runs: aborts the FUSE connection first, so a
    /// loop device cannot wait on requests nobody will answer. nbd devices are detached only
    /// if async_stop() was asked to.
    void stop_now();
    /// Tells the LU's kernel device its new size: nbd RECONFIGURE SIZE_BYTES; a FUSE file
    /// takes the LU's size, then its loop device LOOP_SET_CAPACITY. Logged.
    void async_resize(const std::string& lu_name, std::uint64_t size_bytes);
    /// The device node of an LU ("" when none).
    std::string device_of(const std::string& lu_name) const;

    /// The kind in effect ("auto" resolves at the first attach).
    Kind kind() const noexcept { return kind_; }

private:
    void attach_nbd(std::shared_ptr<LogicalUnit> lu, AttachHandler done);
    void attach_fuse(std::shared_ptr<IoTarget> target, bool with_loop, AttachHandler done);
    void resize_fuse(const std::string& lu_name, std::uint64_t size_bytes);

    boost::asio::any_io_executor ex_;
    NbdServer& server_;
    Kind kind_;
    std::filesystem::path fuse_dir_;
    unsigned queues_ = 0;
    std::chrono::seconds reattach_timeout_{120};
    bool detach_nbd_ = false;
    std::map<std::string, std::shared_ptr<NetlinkNbdDevice>> nbd_devices_; // by LU name
    /// Filled by attach jobs on loop_worker_, emptied by its stop jobs: only that thread
    /// touches the LoopDevice inside.
    std::vector<std::shared_ptr<std::optional<LoopDevice>>> loops_;
    std::map<std::string, std::shared_ptr<std::optional<LoopDevice>>> loop_of_; // by LU name
    std::unique_ptr<FuseExport> fuse_;
    bool stopping_ = false;
    BlockingWorker loop_worker_; // after the members its jobs use: joined first
};

} // namespace mpiod
