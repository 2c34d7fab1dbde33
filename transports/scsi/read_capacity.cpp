#include "transports/scsi/read_capacity.hpp"

#include <limits>

#include <fmt/format.h>
#include <iscsi/scsi-lowlevel.h>

#include "transports/scsi/scsi_command.hpp"
#include "transports/scsi/scsi_data_error.hpp"
#include "transports/scsi/unmarshall.hpp"

namespace mpiod::scsi {

Capacity parse_read_capacity16(std::span<const std::uint8_t> data) {
    if (data.size() < 16) {
        throw ScsiDataError(
            fmt::format("READ CAPACITY(16) data truncated: {} bytes, need 16", data.size()));
    }
    auto task = detail::task_with_datain(read_capacity16_command(), data);
    const auto* rc =
        static_cast<scsi_readcapacity16*>(detail::unmarshall(task.get(), "READ CAPACITY(16)"));
    std::uint32_t bs = rc->block_length;
    if (bs == 0 || (bs & (bs - 1)) != 0 || bs > (1u << 20)) {
        throw ScsiDataError(fmt::format("READ CAPACITY(16): unusable block size {}", bs));
    }
    if (rc->returned_lba == std::numeric_limits<std::uint64_t>::max() ||
        rc->returned_lba + 1 > std::numeric_limits<std::uint64_t>::max() / bs) {
        throw ScsiDataError(fmt::format("READ CAPACITY(16): {} blocks of {} bytes overflow 64 bits",
                                        rc->returned_lba, bs));
    }
    Capacity out;
    out.blocks = rc->returned_lba + 1;
    out.block_size = bs;
    std::uint32_t exp = rc->lbppbe < 16 ? rc->lbppbe : 0;
    out.physical_block_size = bs << exp;
    out.lbpme = rc->lbpme != 0;
    out.lbprz = rc->lbprz != 0;
    return out;
}

} // namespace mpiod::scsi
