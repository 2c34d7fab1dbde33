// CDB builders: libiscsi's scsi_cdb_* fill a scsi_task; the bytes are copied out so the
// command is plain, copyable data that any transport can send (and re-send on a retry).
#include "transports/scsi/scsi_command.hpp"

#include <algorithm>
#include <memory>
#include <new>

#include <fmt/format.h>
#include <iscsi/scsi-lowlevel.h>

namespace mpiod::scsi {

namespace {

struct TaskDeleter {
    void operator()(scsi_task* t) const noexcept { scsi_free_scsi_task(t); }
};
using TaskPtr = std::unique_ptr<scsi_task, TaskDeleter>;

ScsiCommand from_task(scsi_task* raw) {
    TaskPtr task(raw);
    if (!task) {
        throw std::bad_alloc(); // libiscsi's builders fail only when malloc does
    }
    ScsiCommand cmd;
    cmd.cdb_length = static_cast<std::uint8_t>(std::min<int>(task->cdb_size, 16));
    std::copy_n(task->cdb, cmd.cdb_length, cmd.cdb.begin());
    switch (task->xfer_dir) {
    case SCSI_XFER_READ:
        cmd.direction = DataDirection::from_device;
        break;
    case SCSI_XFER_WRITE:
        cmd.direction = DataDirection::to_device;
        break;
    default:
        cmd.direction = DataDirection::none;
        break;
    }
    cmd.transfer_length = static_cast<std::uint32_t>(std::max(task->expxferlen, 0));
    return cmd;
}

void put_be16(std::uint8_t* p, std::uint16_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}

void put_be32(std::uint8_t* p, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) {
        p[i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
    }
}

void put_be64(std::uint8_t* p, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) {
        p[i] = static_cast<std::uint8_t>(v >> (56 - 8 * i));
    }
}

int as_int(std::uint32_t v) {
    return static_cast<int>(std::min<std::uint32_t>(v, 0x7fffffff));
}

} // namespace

std::string describe(const ScsiCommand& cmd) {
    switch (cmd.opcode()) {
    case 0x00:
        return "TEST UNIT READY";
    case 0x12:
        return (cmd.cdb[1] & 1) != 0 ? fmt::format("INQUIRY VPD 0x{:02x}", cmd.cdb[2])
                                     : std::string("INQUIRY");
    case 0x9e:
        return "READ CAPACITY(16)";
    case 0xa0:
        return "REPORT LUNS";
    case 0x88:
        return "READ(16)";
    case 0x8a:
        return "WRITE(16)";
    case 0x91:
        return "SYNCHRONIZE CACHE(16)";
    case 0x42:
        return "UNMAP";
    case 0x93:
        return "WRITE SAME(16)";
    case 0xa3:
        return "REPORT TARGET PORT GROUPS";
    default:
        return fmt::format("opcode 0x{:02x}", cmd.opcode());
    }
}

ScsiCommand test_unit_ready_command() {
    return from_task(scsi_cdb_testunitready());
}

ScsiCommand inquiry_command(bool evpd, std::uint8_t page, std::uint16_t alloc_len) {
    return from_task(scsi_cdb_inquiry(evpd ? 1 : 0, evpd ? page : 0, alloc_len));
}

ScsiCommand read_capacity16_command(std::uint32_t alloc_len) {
    ScsiCommand cmd = from_task(scsi_cdb_readcapacity16());
    // libiscsi asks for exactly 32 bytes; a caller may want more.
    put_be32(&cmd.cdb[10], alloc_len);
    cmd.transfer_length = alloc_len;
    return cmd;
}

ScsiCommand report_luns_command(std::uint32_t alloc_len) {
    return from_task(scsi_reportluns_cdb(0, as_int(alloc_len)));
}

ScsiCommand read16_command(std::uint64_t lba, std::uint32_t blocks, std::uint32_t block_size,
                           bool fua) {
    return from_task(
        scsi_cdb_read16(lba, blocks * block_size, as_int(block_size), 0, 0, fua ? 1 : 0, 0, 0));
}

ScsiCommand write16_command(std::uint64_t lba, std::uint32_t blocks, std::uint32_t block_size,
                            bool fua) {
    return from_task(
        scsi_cdb_write16(lba, blocks * block_size, as_int(block_size), 0, 0, fua ? 1 : 0, 0, 0));
}

ScsiCommand synchronize_cache16_command() {
    return from_task(scsi_cdb_synchronizecache16(0, 0, 0, 0));
}

ScsiCommand unmap_command(std::span<const LbaRange> ranges) {
    std::uint32_t list_len = 8 + 16 * static_cast<std::uint32_t>(ranges.size());
    ScsiCommand cmd = from_task(scsi_cdb_unmap(0, 0, static_cast<std::uint16_t>(list_len)));
    cmd.direction = DataDirection::to_device;
    cmd.transfer_length = list_len;
    cmd.parameter_data.assign(list_len, 0);
    std::uint8_t* p = cmd.parameter_data.data();
    put_be16(p, static_cast<std::uint16_t>(list_len - 2)); // UNMAP DATA LENGTH
    put_be16(p + 2, static_cast<std::uint16_t>(list_len - 8));
    for (std::size_t i = 0; i < ranges.size(); ++i) {
        put_be64(p + 8 + 16 * i, ranges[i].lba);
        put_be32(p + 16 + 16 * i, ranges[i].blocks);
    }
    return cmd;
}

ScsiCommand write_same16_unmap_command(std::uint64_t lba, std::uint32_t blocks,
                                       std::uint32_t block_size) {
    ScsiCommand cmd = from_task(scsi_cdb_writesame16(0, 0, 1, lba, 0, blocks, as_int(block_size)));
    cmd.direction = DataDirection::to_device;
    cmd.transfer_length = block_size;
    cmd.parameter_data.assign(block_size, 0);
    return cmd;
}

ScsiCommand report_target_port_groups_command(std::uint32_t alloc_len, bool extended_header) {
    ScsiCommand cmd;
    cmd.cdb_length = 12;
    cmd.cdb[0] = 0xa3;                                // MAINTENANCE IN
    cmd.cdb[1] = 0x0a | (extended_header ? 0x20 : 0); // service action; parameter data format
    put_be32(&cmd.cdb[6], alloc_len);
    cmd.direction = DataDirection::from_device;
    cmd.transfer_length = alloc_len;
    return cmd;
}

} // namespace mpiod::scsi
