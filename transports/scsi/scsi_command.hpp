// One SCSI command as plain data: the CDB bytes, the data direction and the transfer
// length. Transport-neutral: iSCSI turns it into a libiscsi task, SG into an sg_io_hdr.
// The builders use libiscsi's scsi-lowlevel CDB functions (they work for SG too) except
// where libiscsi 1.19 has none (REPORT TARGET PORT GROUPS).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace mpiod::scsi {

enum class DataDirection : std::uint8_t { none, from_device, to_device };

struct ScsiCommand {
    std::array<std::uint8_t, 16> cdb{};
    std::uint8_t cdb_length = 0;
    DataDirection direction = DataDirection::none;
    /// Bytes expected from (data-in) or sent to (data-out) the device.
    std::uint32_t transfer_length = 0;
    /// Data-out owned by the command (UNMAP parameter list, WRITE SAME block); empty when the
    /// caller supplies the data-out buffer itself (WRITE(16)).
    std::vector<std::uint8_t> parameter_data;

    std::span<const std::uint8_t> cdb_bytes() const noexcept { return {cdb.data(), cdb_length}; }
    std::uint8_t opcode() const noexcept { return cdb[0]; }
};

/// "READ(16)", "INQUIRY VPD 0x83", ... for logs.
std::string describe(const ScsiCommand& cmd);

ScsiCommand test_unit_ready_command();
/// Standard INQUIRY (evpd=false, page ignored) or a VPD page. alloc_len <= 65535.
ScsiCommand inquiry_command(bool evpd, std::uint8_t page, std::uint16_t alloc_len);
ScsiCommand read_capacity16_command(std::uint32_t alloc_len = 32);
ScsiCommand report_luns_command(std::uint32_t alloc_len);

/// blocks * block_size must fit in 32 bits (IoRequest lengths do).
ScsiCommand read16_command(std::uint64_t lba, std::uint32_t blocks, std::uint32_t block_size,
                           bool fua);
ScsiCommand write16_command(std::uint64_t lba, std::uint32_t blocks, std::uint32_t block_size,
                            bool fua);
/// Whole LU (lba 0, 0 blocks = to the end).
ScsiCommand synchronize_cache16_command();

struct LbaRange {
    std::uint64_t lba = 0;
    std::uint32_t blocks = 0;
};
/// UNMAP with its parameter list (8-byte header + 16 bytes per range) in parameter_data.
ScsiCommand unmap_command(std::span<const LbaRange> ranges);
/// WRITE SAME(16) with UNMAP=1: one zeroed block of data-out in parameter_data.
ScsiCommand write_same16_unmap_command(std::uint64_t lba, std::uint32_t blocks,
                                       std::uint32_t block_size);

/// MAINTENANCE IN / REPORT TARGET PORT GROUPS, built by hand (libiscsi 1.19 has no helper).
/// extended_header asks for the extended-header format (implicit transition time).
ScsiCommand report_target_port_groups_command(std::uint32_t alloc_len, bool extended_header);

} // namespace mpiod::scsi
