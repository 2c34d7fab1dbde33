// One IoTarget attached to a kernel /dev/nbdX through generic netlink: socketpairs whose one
// end the NbdServer serves and whose other end the kernel gets; reattach after a daemon
// restart (RECONFIGURE), resize, detach.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "core/completion.hpp"
#include "core/io_target.hpp"
#include "exports/kernel/blocking_worker.hpp"

namespace mpiod {

class NbdServer;

struct NbdDeviceOptions {
    /// Sockets (kernel hardware queues); 0 = min(4, CPUs). 1 when the target does not allow
    /// several connections.
    unsigned sockets = 0;
    /// The kernel's per-request timeout. With several sockets a request older than this marks
    /// its socket dead (the kernel requeues it on another), so it must exceed the LU's worst
    /// case (io_timeout per path times paths, plus no_path_retry): mpiod owns the deadlines.
    std::chrono::seconds io_timeout{600};
    /// How long the kernel queues I/O once every socket is dead (the daemon died) waiting for
    /// a new daemon to reattach, before failing it.
    std::chrono::seconds dead_conn_timeout{120};
};

/// Threading: create and call every member on `ex` (the NbdServer's executor). Netlink calls
/// run on the device's own BlockingWorker thread, never on `ex`: the kernel may send I/O on the
/// sockets while CONNECT is in progress, and that I/O is served on `ex`. The serving ends are
/// handed to the NbdServer before CONNECT is sent. Handlers run on `ex` with success or a
/// ControlError; a handler runs even if the device object is gone by then.
///
/// The backend identifier (the LU's WWID) is stored by the kernel as /sys/block/nbdX/backend;
/// async_attach() finds a device already bound to it (left by a daemon that died) and
/// reattaches to it with fresh sockets instead of taking a new device.
class NetlinkNbdDevice : public std::enable_shared_from_this<NetlinkNbdDevice> {
public:
    using Handler = Completion<ControlResult<>>;

    /// `server` must outlive the device. Nothing happens until async_attach().
    NetlinkNbdDevice(boost::asio::any_io_executor ex, NbdServer& server,
                     std::shared_ptr<IoTarget> target, std::string backend_id,
                     NbdDeviceOptions options = {});
    /// Does not detach (a device left attached waits dead_conn_timeout for a reattach); waits
    /// for a netlink call in progress.
    ~NetlinkNbdDevice();
    NetlinkNbdDevice(const NetlinkNbdDevice&) = delete;
    NetlinkNbdDevice& operator=(const NetlinkNbdDevice&) = delete;

    /// Attaches (CONNECT to a free device, or RECONFIGURE of the device bound to the backend
    /// identifier). Errors: no nbd module ("kernel has no nbd module: modprobe nbd"), the
    /// device served by a live process, a block size the kernel cannot take, netlink refusals.
    void async_attach(Handler done);
    /// Tells the kernel the new size (RECONFIGURE SIZE_BYTES). The serving connections check
    /// requests against the size they started with, so growing needs a target whose
    /// export_info() already reports the new size and a reattach.
    void async_resize(std::uint64_t size_bytes, Handler done);
    /// DISCONNECT: the kernel sends NBD_CMD_DISC on every socket, fails I/O in flight and frees
    /// the device. Runs after an attach still in progress; succeeds when not attached.
    void async_detach(Handler done);
    /// The same, blocking the caller (for teardown when the executor no longer runs).
    void detach_now();

    std::optional<std::uint32_t> index() const noexcept { return index_; }
    /// "/dev/nbd<index>", or "" when not attached.
    std::string device_path() const;
    /// True when the last attach reused a device left by an earlier daemon.
    bool reattached() const noexcept { return reattached_; }
    unsigned socket_count() const noexcept { return sockets_; }

private:
    /// The device as the worker thread knows it: written by attach and detach jobs only, which
    /// run in order, so a detach queued behind an attach sees its result.
    struct Binding {
        std::optional<std::uint32_t> index;
    };

    void fail_soon(Handler done, ControlError error);

    boost::asio::any_io_executor ex_;
    NbdServer& server_;
    std::shared_ptr<IoTarget> target_;
    std::string backend_id_;
    NbdDeviceOptions options_;
    std::optional<std::uint32_t> index_;
    bool reattached_ = false;
    bool busy_ = false;
    unsigned sockets_ = 0;
    std::shared_ptr<Binding> binding_ = std::make_shared<Binding>();
    BlockingWorker worker_; // last: joined first, while the members above still exist
};

} // namespace mpiod
