// What /sys/block says about nbd devices: which one is bound to a backend identifier (a WWID),
// how many sockets (hardware queues) it has, and its request size limit.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace mpiod {

/// "/dev/nbd<index>".
std::string nbd_device_path(std::uint32_t index);

/// The nbd device whose /sys/block/nbdX/backend equals `backend_id` (the file exists only
/// while a configuration is bound), or nullopt. `sys_block` is for tests. Never throws.
std::optional<std::uint32_t>
find_nbd_by_backend(std::string_view backend_id,
                    const std::filesystem::path& sys_block = "/sys/block");

/// The number of sockets the device was connected with (one blk-mq hardware queue each,
/// /sys/block/nbdX/mq/*), or 0 if unknown.
unsigned nbd_socket_count(std::uint32_t index,
                          const std::filesystem::path& sys_block = "/sys/block");

/// The pid of the process that connected the device (/sys/block/nbdX/pid), if any.
std::optional<long> nbd_owner_pid(std::uint32_t index,
                                  const std::filesystem::path& sys_block = "/sys/block");

/// Lowers /sys/block/nbdX/queue/max_sectors_kb so that the kernel never sends a request
/// larger than `max_bytes` (the kernel's own limit is 32 MiB, an export's may be smaller).
/// Returns "" or an error message.
std::string limit_nbd_request_size(std::uint32_t index, std::uint32_t max_bytes,
                                   const std::filesystem::path& sys_block = "/sys/block");

} // namespace mpiod
