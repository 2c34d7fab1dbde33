// A /dev/loopN backed by a file (the FUSE export's file of an LU), attached with
// LOOP_CONFIGURE and direct I/O where the kernel allows it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace mpiod {

/// Every member blocks in the kernel: call them off the executor that serves the backing file
/// (opening a FUSE file sends requests to it). Move-only; owns the device's file descriptor.
/// The device is configured with LO_FLAGS_AUTOCLEAR and that descriptor is kept open, so a
/// daemon that dies leaves no loop device behind once its users close it.
class LoopDevice {
public:
    /// Attaches `file` to a free loop device with logical block `block_size` (512..4096).
    /// Tries LOOP_CONFIGURE with LO_FLAGS_DIRECT_IO, then without it, then the older
    /// LOOP_SET_FD + LOOP_SET_STATUS64 (+ LOOP_SET_BLOCK_SIZE, LOOP_SET_DIRECT_IO). Throws
    /// std::system_error naming the step.
    static LoopDevice attach(const std::filesystem::path& file, std::uint32_t block_size,
                             bool read_only);

    LoopDevice(LoopDevice&& other) noexcept;
    LoopDevice& operator=(LoopDevice&& other) noexcept;
    LoopDevice(const LoopDevice&) = delete;
    LoopDevice& operator=(const LoopDevice&) = delete;
    /// Detaches if still attached.
    ~LoopDevice();

    /// LOOP_SET_CAPACITY: the device takes the backing file's current size (after the FUSE
    /// file grew). Throws std::system_error.
    void set_capacity();

    /// LOOP_CLR_FD and close: the kernel lets the file go once the device's last user
    /// closes it (at once when nothing has it open or mounted).
    void detach() noexcept;

    const std::string& path() const noexcept { return path_; }
    bool direct_io() const noexcept { return direct_io_; }
    bool attached() const noexcept { return fd_ >= 0; }

private:
    LoopDevice(int fd, std::string path, bool direct_io)
        : fd_(fd), path_(std::move(path)), direct_io_(direct_io) {}

    int fd_ = -1;
    std::string path_;
    bool direct_io_ = false;
};

} // namespace mpiod
