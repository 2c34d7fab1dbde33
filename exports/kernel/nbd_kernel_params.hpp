// What the kernel nbd driver is told about an IoTarget when /dev/nbdX is attached: its block
// size, transmission flags and number of sockets.
#pragma once

#include <cstdint>

#include "core/io_target.hpp"

namespace mpiod {

/// The logical block size for the device: the target's preferred block, at least 512 and at
/// least its minimum block. Throws std::invalid_argument when that exceeds 4096 (the
/// kernel's limit on 4 KiB-page machines).
std::uint32_t nbd_block_size(const ExportInfo& info);

/// NBD_ATTR_SERVER_FLAGS: HAS_FLAGS, READ_ONLY, SEND_FLUSH, SEND_FUA (with FLUSH only),
/// SEND_TRIM, SEND_WRITE_ZEROES as the target advertises, and CAN_MULTI_CONN when more than one
/// socket is used (the kernel refuses several sockets without it).
std::uint64_t nbd_server_flags(const ExportInfo& info, unsigned sockets);

/// How many sockets to give the kernel: `wanted` (0 = min(4, CPUs)), and 1 when the target
/// does not allow several connections.
unsigned nbd_socket_count_for(const ExportInfo& info, unsigned wanted);

} // namespace mpiod
