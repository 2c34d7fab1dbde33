// Loop device set-up (drivers/block/loop.c): find a free device through /dev/loop-control,
// configure it atomically where LOOP_CONFIGURE exists (Linux 5.8), fall back to the older
// ioctls otherwise.
#include "exports/kernel/loop_device.hpp"

#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <fmt/format.h>

namespace mpiod {

namespace {

[[noreturn]] void fail(const std::string& what) {
    throw std::system_error(errno, std::system_category(), what);
}

/// Closes on scope exit unless released.
struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
    int release() { return std::exchange(fd, -1); }
};

loop_info64 info_for(const std::filesystem::path& file, std::uint32_t flags) {
    loop_info64 info{};
    info.lo_flags = flags;
    std::strncpy(reinterpret_cast<char*>(info.lo_file_name), file.c_str(), LO_NAME_SIZE - 1);
    return info;
}

/// The older way: returns false when the device was taken meanwhile (EBUSY).
bool configure_legacy(int loop_fd, int file_fd, const std::filesystem::path& file,
                      std::uint32_t block_size, std::uint32_t flags, const std::string& dev) {
    if (::ioctl(loop_fd, LOOP_SET_FD, file_fd) != 0) {
        if (errno == EBUSY) {
            return false;
        }
        fail("LOOP_SET_FD on " + dev);
    }
    auto info = info_for(file, flags & (LO_FLAGS_AUTOCLEAR | LO_FLAGS_PARTSCAN));
    if (::ioctl(loop_fd, LOOP_SET_STATUS64, &info) != 0 ||
        ::ioctl(loop_fd, LOOP_SET_BLOCK_SIZE, static_cast<unsigned long>(block_size)) != 0) {
        int saved = errno;
        ::ioctl(loop_fd, LOOP_CLR_FD, 0);
        errno = saved;
        fail("configuring " + dev);
    }
    if ((flags & LO_FLAGS_DIRECT_IO) != 0) {
        ::ioctl(loop_fd, LOOP_SET_DIRECT_IO, 1ul); // buffered I/O when refused
    }
    return true;
}

} // namespace

LoopDevice LoopDevice::attach(const std::filesystem::path& file, std::uint32_t block_size,
                              bool read_only) {
    Fd file_fd{::open(file.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC)};
    if (file_fd.fd < 0) {
        fail("opening " + file.string());
    }
    Fd control{::open("/dev/loop-control", O_RDWR | O_CLOEXEC)};
    if (control.fd < 0) {
        fail("opening /dev/loop-control");
    }
    std::uint32_t flags = LO_FLAGS_AUTOCLEAR | LO_FLAGS_DIRECT_IO;
    if (read_only) {
        flags |= LO_FLAGS_READ_ONLY;
    }
    // Another process may take the free device between GET_FREE and configuring it.
    for (int attempt = 0; attempt < 16; ++attempt) {
        int n = ::ioctl(control.fd, LOOP_CTL_GET_FREE);
        if (n < 0) {
            fail("LOOP_CTL_GET_FREE");
        }
        auto dev = fmt::format("/dev/loop{}", n);
        Fd loop{::open(dev.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC)};
        if (loop.fd < 0) {
            fail("opening " + dev);
        }
        loop_config config{};
        config.fd = static_cast<std::uint32_t>(file_fd.fd);
        config.block_size = block_size;
        config.info = info_for(file, flags);
        int rc = ::ioctl(loop.fd, LOOP_CONFIGURE, &config);
        if (rc != 0 && errno == EINVAL) {
            // Newer kernels refuse direct I/O they cannot do instead of ignoring the flag.
            config.info = info_for(file, flags & ~LO_FLAGS_DIRECT_IO);
            rc = ::ioctl(loop.fd, LOOP_CONFIGURE, &config);
        }
        if (rc != 0 && errno == EBUSY) {
            continue;
        }
        if (rc != 0 && (errno == ENOTTY || errno == EINVAL)) {
            if (!configure_legacy(loop.fd, file_fd.fd, file, block_size, flags, dev)) {
                continue;
            }
        } else if (rc != 0) {
            fail("LOOP_CONFIGURE on " + dev);
        }
        loop_info64 status{};
        bool dio = ::ioctl(loop.fd, LOOP_GET_STATUS64, &status) == 0 &&
                   (status.lo_flags & LO_FLAGS_DIRECT_IO) != 0;
        return LoopDevice(loop.release(), dev, dio);
    }
    errno = EBUSY;
    fail("finding a free loop device");
}

LoopDevice::LoopDevice(LoopDevice&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      direct_io_(other.direct_io_) {}

LoopDevice& LoopDevice::operator=(LoopDevice&& other) noexcept {
    if (this != &other) {
        detach();
        fd_ = std::exchange(other.fd_, -1);
        path_ = std::move(other.path_);
        direct_io_ = other.direct_io_;
    }
    return *this;
}

LoopDevice::~LoopDevice() {
    detach();
}

void LoopDevice::set_capacity() {
    if (fd_ < 0) {
        throw std::system_error(ENXIO, std::system_category(), "LOOP_SET_CAPACITY: detached");
    }
    if (::ioctl(fd_, LOOP_SET_CAPACITY, 0) != 0) {
        throw std::system_error(errno, std::system_category(), "LOOP_SET_CAPACITY " + path_);
    }
}

void LoopDevice::detach() noexcept {
    if (fd_ < 0) {
        return;
    }
    ::ioctl(fd_, LOOP_CLR_FD, 0); // EBUSY while in use: AUTOCLEAR finishes it on last close
    ::close(fd_);
    fd_ = -1;
}

} // namespace mpiod
