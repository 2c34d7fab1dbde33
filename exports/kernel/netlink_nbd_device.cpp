// Attach, reattach, resize and detach of /dev/nbdX. The order matters: the daemon's socket
// ends are served before the kernel ends are handed over, because the kernel may send I/O as
// soon as CONNECT (or RECONFIGURE) takes a socket.
#include "exports/kernel/netlink_nbd_device.hpp"

#include <cerrno>
#include <csignal>
#include <vector>

#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "exports/kernel/nbd_kernel_params.hpp"
#include "exports/kernel/nbd_netlink.hpp"
#include "exports/kernel/nbd_sysfs.hpp"
#include "exports/nbd/nbd_server.hpp"

namespace mpiod {

namespace {

/// The kernel ends of the socketpairs. The kernel takes its own reference on each socket it
/// accepts, so ours are closed once the netlink call returns, whatever its outcome; a socket
/// the kernel did not take then reads EOF on the serving side, which closes that connection.
struct KernelEnds {
    std::vector<int> fds;
    KernelEnds() = default;
    KernelEnds(const KernelEnds&) = delete;
    KernelEnds& operator=(const KernelEnds&) = delete;
    ~KernelEnds() {
        for (int fd : fds) {
            ::close(fd);
        }
    }
};

bool process_alive(long pid) {
    return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

} // namespace

NetlinkNbdDevice::NetlinkNbdDevice(boost::asio::any_io_executor ex, NbdServer& server,
                                   std::shared_ptr<IoTarget> target, std::string backend_id,
                                   NbdDeviceOptions options)
    : ex_(ex),
      server_(server),
      target_(std::move(target)),
      backend_id_(std::move(backend_id)),
      options_(options),
      worker_(ex) {}

NetlinkNbdDevice::~NetlinkNbdDevice() = default;

std::string NetlinkNbdDevice::device_path() const {
    return index_ ? nbd_device_path(*index_) : std::string();
}

void NetlinkNbdDevice::fail_soon(Handler done, ControlError error) {
    boost::asio::post(ex_, [done = std::move(done), error = std::move(error)]() mutable {
        std::move(done)(std::move(error));
    });
}

void NetlinkNbdDevice::async_attach(Handler done) {
    if (busy_ || index_) {
        fail_soon(std::move(done),
                  busy_ ? ControlError::busy("an nbd operation is already in progress")
                        : ControlError::invalid("already attached as " + device_path()));
        return;
    }
    const auto info = target_->export_info();
    std::uint32_t block = 0;
    try {
        block = nbd_block_size(info);
    } catch (const std::exception& e) {
        fail_soon(std::move(done), ControlError::invalid(e.what()));
        return;
    }

    // A device still bound to our backend identifier was left by a daemon that died: take it
    // over (its sockets are dead and the kernel is queueing I/O for up to dead_conn_timeout).
    auto existing = find_nbd_by_backend(backend_id_);
    unsigned sockets = nbd_socket_count_for(info, options_.sockets);
    if (existing) {
        if (auto pid = nbd_owner_pid(*existing);
            pid && *pid != static_cast<long>(::getpid()) && process_alive(*pid)) {
            fail_soon(std::move(done), ControlError::busy(fmt::format(
                                           "{} is bound to {} and served by the live process {}",
                                           nbd_device_path(*existing), backend_id_, *pid)));
            return;
        }
        if (auto n = nbd_socket_count(*existing); n > 0) {
            sockets = n; // RECONFIGURE can only replace the dead sockets the device has
        }
    }

    auto ends = std::make_shared<KernelEnds>();
    for (unsigned i = 0; i < sockets; ++i) {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
            fail_soon(std::move(done),
                      ControlError::failed(
                          fmt::format("socketpair: {}", std::system_category().message(errno))));
            return; // sockets already served read EOF when `ends` closes theirs
        }
        ends->fds.push_back(sv[0]);
        boost::asio::local::stream_protocol::socket s(ex_);
        s.assign(boost::asio::local::stream_protocol(), sv[1]);
        server_.serve_transmission(std::move(s), target_);
    }

    busy_ = true;
    struct Outcome {
        std::uint32_t index = 0;
        std::string warning;
    };
    auto outcome = std::make_shared<Outcome>();
    auto job = [ends, outcome, existing, info, block, sockets, backend = backend_id_,
                opts = options_, binding = binding_] {
        NbdNetlink nl;
        if (existing) {
            NbdReconfigureSpec spec;
            spec.backend_id = backend;
            spec.size_bytes = info.size_bytes;
            spec.timeout = opts.io_timeout;
            spec.dead_conn_timeout = opts.dead_conn_timeout;
            spec.socket_fds = ends->fds;
            nl.reconfigure(*existing, spec);
            outcome->index = *existing;
        } else {
            NbdConnectSpec spec;
            spec.size_bytes = info.size_bytes;
            spec.block_size = block;
            spec.server_flags = nbd_server_flags(info, sockets);
            spec.timeout = opts.io_timeout;
            spec.dead_conn_timeout = opts.dead_conn_timeout;
            spec.backend_id = backend;
            spec.socket_fds = ends->fds;
            outcome->index = nl.connect(spec);
        }
        binding->index = outcome->index;
        outcome->warning = limit_nbd_request_size(outcome->index, info.max_request);
    };
    auto weak = weak_from_this();
    worker_.run(job, [weak, outcome, existing, sockets,
                      done = std::move(done)](ControlResult<> ran) mutable {
        auto self = weak.lock();
        if (!self) {
            std::move(done)(ControlError::failed("the device was destroyed while attaching"));
            return;
        }
        self->busy_ = false;
        if (!ran) {
            std::move(done)(std::move(ran));
            return;
        }
        self->index_ = outcome->index;
        self->reattached_ = existing.has_value();
        self->sockets_ = sockets;
        spdlog::info("lu {}: {} {} with {} socket(s), backend {}, kernel timeout {} s",
                     self->target_->name(), existing ? "reattached to" : "attached as",
                     self->device_path(), sockets, self->backend_id_,
                     self->options_.io_timeout.count());
        if (!outcome->warning.empty()) {
            spdlog::warn("lu {}: {}: {}", self->target_->name(), self->device_path(),
                         outcome->warning);
        }
        std::move(done)(success());
    });
}

void NetlinkNbdDevice::async_resize(std::uint64_t size_bytes, Handler done) {
    if (busy_ || !index_) {
        fail_soon(std::move(done),
                  busy_ ? ControlError::busy("an nbd operation is already in progress")
                        : ControlError::invalid("not attached"));
        return;
    }
    busy_ = true;
    auto job = [index = *index_, size_bytes, backend = backend_id_] {
        NbdNetlink nl;
        NbdReconfigureSpec spec;
        spec.backend_id = backend;
        spec.size_bytes = size_bytes;
        nl.reconfigure(index, spec);
    };
    auto weak = weak_from_this();
    worker_.run(job, [weak, done = std::move(done)](ControlResult<> ran) mutable {
        if (auto self = weak.lock()) {
            self->busy_ = false;
        }
        std::move(done)(std::move(ran));
    });
}

namespace {

void disconnect_bound(std::optional<std::uint32_t>& index) {
    if (index) {
        NbdNetlink().disconnect(*index);
        index.reset();
    }
}

} // namespace

void NetlinkNbdDevice::async_detach(Handler done) {
    auto weak = weak_from_this();
    auto binding = binding_;
    worker_.run([binding] { disconnect_bound(binding->index); },
                [weak, binding, done = std::move(done)](ControlResult<> ran) mutable {
                    if (auto self = weak.lock(); self && ran && self->index_) {
                        spdlog::info("lu {}: detached {}", self->target_->name(),
                                     self->device_path());
                        self->index_.reset();
                    }
                    std::move(done)(std::move(ran));
                });
}

void NetlinkNbdDevice::detach_now() {
    auto binding = binding_;
    worker_.run_and_wait([binding] { disconnect_bound(binding->index); });
    index_.reset();
}

} // namespace mpiod
