// REPORT LUNS parameter data: the LUNs a target offers to this initiator (discovery).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace mpiod::scsi {

/// The whole length the list says it has (8-byte header included); nullopt under 8 bytes.
std::optional<std::uint32_t> report_luns_length(std::span<const std::uint8_t> data);

/// LUN numbers in single-level peripheral or flat addressing (what libiscsi's URLs take);
/// entries in other addressing methods are skipped. Throws ScsiDataError when the data is
/// shorter than its list length.
std::vector<std::uint16_t> parse_report_luns(std::span<const std::uint8_t> data);

} // namespace mpiod::scsi
