// UeventMonitor: kernel uevents from netlink, filtered by subsystem.
#include "daemon/uevent_monitor.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <string_view>

#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

namespace mpiod {

namespace {

constexpr unsigned kernel_group = 1; // the kernel's broadcast; udevd re-sends on group 2

} // namespace

std::optional<Uevent> parse_uevent(std::span<const char> message) {
    std::string_view text(message.data(), message.size());
    const auto header_end = text.find('\0');
    const std::string_view header = text.substr(0, header_end);
    const auto at = header.find('@');
    if (header_end == std::string_view::npos || at == std::string_view::npos || at == 0 ||
        header.starts_with("libudev")) {
        return std::nullopt;
    }
    Uevent e;
    e.action = std::string(header.substr(0, at));
    e.devpath = std::string(header.substr(at + 1));
    std::size_t pos = header_end + 1;
    while (pos < text.size()) {
        auto end = text.find('\0', pos);
        std::string_view field = text.substr(pos, end == std::string_view::npos ? end : end - pos);
        if (field.starts_with("SUBSYSTEM=")) {
            e.subsystem = std::string(field.substr(10));
        } else if (field.starts_with("DEVNAME=")) {
            e.devname = std::string(field.substr(8));
        } else if (field.starts_with("ACTION=")) {
            e.action = std::string(field.substr(7));
        }
        if (end == std::string_view::npos) {
            break;
        }
        pos = end + 1;
    }
    if (e.subsystem.empty()) {
        return std::nullopt;
    }
    return e;
}

UeventMonitor::UeventMonitor(boost::asio::any_io_executor ex, std::string subsystem,
                             Handler handler)
    : sock_(std::move(ex)), subsystem_(std::move(subsystem)), handler_(std::move(handler)) {}

UeventMonitor::~UeventMonitor() {
    stop();
}

ControlResult<> UeventMonitor::start() {
    int fd =
        ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
    if (fd < 0) {
        return ControlError::failed(std::string("netlink uevent socket: ") + std::strerror(errno));
    }
    sockaddr_nl addr{};
    addr.nl_family = AF_NETLINK;
    addr.nl_groups = kernel_group;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        auto error = std::string("binding the uevent socket: ") + std::strerror(errno);
        ::close(fd);
        return ControlError::failed(error);
    }
    boost::system::error_code ec;
    sock_.assign(fd, ec);
    if (ec) {
        ::close(fd);
        return ControlError::failed("watching the uevent socket: " + ec.message());
    }
    wait();
    return success();
}

void UeventMonitor::stop() noexcept {
    stopped_ = true;
    boost::system::error_code ignored;
    sock_.close(ignored);
}

void UeventMonitor::wait() {
    sock_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                     [this](boost::system::error_code ec) {
                         if (ec || stopped_) {
                             return;
                         }
                         drain();
                         if (!stopped_) {
                             wait();
                         }
                     });
}

void UeventMonitor::drain() {
    std::array<char, 8192> buf{};
    for (;;) {
        sockaddr_nl from{};
        socklen_t from_len = sizeof from;
        ssize_t n = ::recvfrom(sock_.native_handle(), buf.data(), buf.size(), 0,
                               reinterpret_cast<sockaddr*>(&from), &from_len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return; // EAGAIN; ENOBUFS (events lost: the next one triggers a full rescan)
        }
        if (from.nl_pid != 0) {
            continue; // only the kernel may speak on this group
        }
        auto event = parse_uevent(std::span<const char>(buf.data(), static_cast<std::size_t>(n)));
        if (event && event->subsystem == subsystem_) {
            handler_(*event);
            if (stopped_) {
                return;
            }
        }
    }
}

} // namespace mpiod
