// SCSI sense data: key, ASC, ASCQ, from fixed (0x70/0x71) or descriptor (0x72/0x73) format.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace mpiod::scsi {

namespace sense_key {
inline constexpr std::uint8_t no_sense = 0x0;
inline constexpr std::uint8_t recovered_error = 0x1;
inline constexpr std::uint8_t not_ready = 0x2;
inline constexpr std::uint8_t medium_error = 0x3;
inline constexpr std::uint8_t hardware_error = 0x4;
inline constexpr std::uint8_t illegal_request = 0x5;
inline constexpr std::uint8_t unit_attention = 0x6;
inline constexpr std::uint8_t data_protect = 0x7;
inline constexpr std::uint8_t blank_check = 0x8;
inline constexpr std::uint8_t vendor_specific = 0x9;
inline constexpr std::uint8_t copy_aborted = 0xa;
inline constexpr std::uint8_t aborted_command = 0xb;
inline constexpr std::uint8_t volume_overflow = 0xd;
inline constexpr std::uint8_t miscompare = 0xe;
} // namespace sense_key

struct SenseData {
    std::uint8_t response_code = 0; // 0x70..0x73; 0 = no (usable) sense data
    std::uint8_t key = 0;
    std::uint8_t asc = 0;
    std::uint8_t ascq = 0;

    bool valid() const noexcept { return response_code >= 0x70 && response_code <= 0x73; }
    bool deferred() const noexcept { return response_code == 0x71 || response_code == 0x73; }
};

/// Raw sense bytes (SG's sbp, iSCSI's sense segment) decoded by libiscsi's
/// scsi_parse_sense_data on a bounded copy. Short or unknown data gives valid() == false.
SenseData parse_sense(std::span<const std::uint8_t> bytes);

/// From libiscsi's decoded form (task->sense: key, ascq = ASC << 8 | ASCQ, error_type).
SenseData sense_from_key_ascq(int error_type, int key, int asc_ascq) noexcept;

/// "UNIT ATTENTION 29/00" for logs.
std::string to_string(const SenseData& sense);

} // namespace mpiod::scsi
