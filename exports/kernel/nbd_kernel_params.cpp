// Kernel-facing parameters derived from ExportInfo; the flag values are the protocol's.
#include "exports/kernel/nbd_kernel_params.hpp"

#include <algorithm>
#include <bit>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "exports/nbd/nbd_wire.hpp"

namespace mpiod {

std::uint32_t nbd_block_size(const ExportInfo& info) {
    auto block = std::max({info.preferred_block, info.min_block, 512u});
    block = std::bit_ceil(block);
    if (block > 4096) {
        throw std::invalid_argument(fmt::format(
            "block size {} is larger than the kernel nbd driver accepts (4096)", block));
    }
    return block;
}

std::uint64_t nbd_server_flags(const ExportInfo& info, unsigned sockets) {
    std::uint64_t flags = nbd::flag_has_flags;
    if (info.read_only) {
        flags |= nbd::flag_read_only;
    }
    if (info.can_flush) {
        flags |= nbd::flag_send_flush;
        if (info.can_fua) {
            flags |= nbd::flag_send_fua;
        }
    }
    if (!info.read_only && info.can_trim) {
        flags |= nbd::flag_send_trim;
    }
    if (!info.read_only && info.can_write_zeroes) {
        flags |= nbd::flag_send_write_zeroes;
    }
    if (sockets > 1) {
        flags |= nbd::flag_can_multi_conn;
    }
    return flags;
}

unsigned nbd_socket_count_for(const ExportInfo& info, unsigned wanted) {
    if (wanted == 0) {
        wanted = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
    }
    return info.can_multi_conn ? wanted : 1;
}

} // namespace mpiod
