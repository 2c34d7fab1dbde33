// A generic-netlink socket bound to the kernel nbd driver's "nbd" family: attach sockets to
// /dev/nbdX (CONNECT), replace dead ones or resize (RECONFIGURE), detach (DISCONNECT), list
// devices (STATUS). Blocking calls; see NetlinkNbdDevice for the asynchronous use.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

struct nl_sock;

namespace mpiod {

/// A refused or failed netlink request; what() says which command and why.
class NbdNetlinkError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// NBD_CMD_CONNECT's attributes. The kernel chooses a free device (no NBD_ATTR_INDEX is sent).
struct NbdConnectSpec {
    std::uint64_t size_bytes = 0;
    std::uint64_t block_size = 512;  // a power of two, 512..page size
    std::uint64_t server_flags = 0;  // NBD transmission flags (HAS_FLAGS, SEND_FLUSH, ...)
    std::chrono::seconds timeout{0}; // per-request timeout; 0 = the kernel's default
    std::chrono::seconds dead_conn_timeout{0}; // how long I/O waits for a RECONFIGURE
    std::string backend_id;                    // /sys/block/nbdX/backend; "" = none
    std::vector<int> socket_fds;               // the kernel takes its own references
};

/// NBD_CMD_RECONFIGURE's attributes; unset ones are not sent. `backend_id` must match the
/// device's when it has one (the kernel refuses otherwise).
struct NbdReconfigureSpec {
    std::string backend_id;
    std::optional<std::uint64_t> size_bytes;
    std::optional<std::chrono::seconds> timeout;
    std::optional<std::chrono::seconds> dead_conn_timeout;
    std::vector<int> socket_fds; // each replaces a dead socket of the device
};

struct NbdDeviceState {
    std::uint32_t index = 0;
    bool connected = false; // the kernel has a configuration (sockets) for it
};

/// One netlink socket. Not thread-safe; every call blocks until the kernel acknowledges.
/// Needs CAP_SYS_ADMIN. The kernel never waits for the NBD server during these calls, but it
/// may send I/O on the sockets right after CONNECT, so they must already be served.
class NbdNetlink {
public:
    /// Connects and resolves the family. Throws NbdNetlinkError "kernel has no nbd module:
    /// modprobe nbd" when the family is unknown, or another NbdNetlinkError when generic
    /// netlink itself is unusable.
    NbdNetlink();
    ~NbdNetlink();
    NbdNetlink(const NbdNetlink&) = delete;
    NbdNetlink& operator=(const NbdNetlink&) = delete;

    /// True when the "nbd" family resolves (the module is loaded). Never throws.
    static bool available() noexcept;

    /// Returns the index of the device the kernel chose (/dev/nbd<index>).
    std::uint32_t connect(const NbdConnectSpec& spec);
    void reconfigure(std::uint32_t index, const NbdReconfigureSpec& spec);
    /// Sends NBD_CMD_DISC on every socket, fails I/O in flight and unbinds the device.
    void disconnect(std::uint32_t index);
    /// Every device, or the one of `index`.
    std::vector<NbdDeviceState> status(std::optional<std::uint32_t> index = std::nullopt);

private:
    nl_sock* sock_ = nullptr;
    int family_ = -1;
};

} // namespace mpiod
