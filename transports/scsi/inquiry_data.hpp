// Standard INQUIRY data and the small VPD pages a path probe reads: 0x00 (supported
// pages), 0x80 (unit serial number), 0xB0 (block limits), 0xB2 (logical block
// provisioning). Each parser checks the bytes, then decodes them with libiscsi, and throws
// ScsiDataError with the page and the problem when they are short or not the page asked for.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace mpiod::scsi {

struct StandardInquiry {
    std::uint8_t qualifier = 0;   // 0: LU present; 1: not connected now; 3: no LU at this LUN
    std::uint8_t device_type = 0; // 0: direct-access block device
    std::uint8_t tpgs = 0;        // ALUA: 0 none, 1 implicit, 2 explicit, 3 both
    bool cmdque = false;
    std::string vendor;   // trailing blanks trimmed
    std::string product;  // trailing blanks trimmed
    std::string revision; // trailing blanks trimmed
};

struct BlockLimits {                // VPD 0xB0; all counts in logical blocks, 0 = no limit
    std::uint32_t max_transfer = 0; // MAXIMUM TRANSFER LENGTH
    std::uint32_t optimal_transfer = 0;
    std::uint32_t max_unmap_lba_count = 0;
    std::uint32_t max_unmap_descriptors = 0;
    std::uint64_t max_write_same = 0;
};

struct LogicalBlockProvisioning { // VPD 0xB2
    bool lbpu = false;            // UNMAP supported
    bool lbpws = false;           // WRITE SAME(16) with UNMAP supported
    bool lbprz = false;           // unmapped blocks read as zeroes
};

/// Needs at least 36 bytes (vendor, product, revision).
StandardInquiry parse_standard_inquiry(std::span<const std::uint8_t> data);
std::vector<std::uint8_t> parse_supported_vpd_pages(std::span<const std::uint8_t> page);
/// The serial with leading and trailing blanks (and NULs) removed.
std::string parse_unit_serial_number(std::span<const std::uint8_t> page);
BlockLimits parse_block_limits(std::span<const std::uint8_t> page);
LogicalBlockProvisioning parse_logical_block_provisioning(std::span<const std::uint8_t> page);

/// The whole length a VPD page says it has (header included), from its first 4 bytes; a
/// reply shorter than this was cut by the allocation length and should be re-read larger.
/// nullopt when fewer than 4 bytes arrived.
std::optional<std::uint32_t> vpd_page_length(std::span<const std::uint8_t> page);

} // namespace mpiod::scsi
