// READ CAPACITY(16) parameter data: the LU's size and block geometry. READ CAPACITY(16)
// (not 10) so LUs of 2 TiB and more report their real size.
#pragma once

#include <cstdint>
#include <span>

namespace mpiod::scsi {

struct Capacity {
    std::uint64_t blocks = 0;     // RETURNED LOGICAL BLOCK ADDRESS + 1
    std::uint32_t block_size = 0; // bytes per logical block
    std::uint32_t physical_block_size = 0;
    bool lbpme = false; // logical block provisioning (thin): UNMAP may be usable
    bool lbprz = false;

    std::uint64_t size_bytes() const noexcept { return blocks * block_size; }
};

/// Needs the first 16 bytes. Throws ScsiDataError for short data, a block size that is 0,
/// not a power of two, or above 1 MiB, or a size that overflows 64 bits.
Capacity parse_read_capacity16(std::span<const std::uint8_t> data);

} // namespace mpiod::scsi
