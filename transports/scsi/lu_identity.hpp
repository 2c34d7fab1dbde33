// Everything a path probe learns about the LU behind a SCSI path, and what core is told.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/transport.hpp"
#include "transports/scsi/device_identification.hpp"
#include "transports/scsi/inquiry_data.hpp"
#include "transports/scsi/read_capacity.hpp"

namespace mpiod::scsi {

/// How trim is sent, chosen from the block limits and provisioning pages.
enum class TrimMethod : std::uint8_t { none, unmap, write_same16_unmap };

struct LuIdentity {
    StandardInquiry inquiry;
    std::vector<std::uint8_t> vpd_pages; // VPD 0x00
    std::string wwid;                    // empty when neither 0x83 nor 0x80 gave one
    bool wwid_from_serial = false;       // weak identity (VPD 0x80 fallback)
    std::string serial;                  // VPD 0x80, trimmed
    Capacity capacity;
    std::optional<BlockLimits> block_limits;
    std::optional<LogicalBlockProvisioning> provisioning;
    bool write_protected = false; // MODE SENSE WP
    bool dpofua = false;          // MODE SENSE DPOFUA: FUA bit honoured
    TrimMethod trim = TrimMethod::none;

    // ALUA (inquiry.tpgs != 0)
    std::optional<std::uint16_t> target_port_group;
    std::optional<std::uint16_t> relative_target_port;
    PathAccess access = PathAccess::optimized;
    std::string access_detail;
    std::optional<std::chrono::milliseconds> transition_timeout;
};

/// Largest request mpiod sends on a SCSI path (and what NBD paths cap at too).
inline constexpr std::uint32_t max_request_cap = 32u << 20;

/// The TransportInfo core gets: size and blocks from READ CAPACITY(16), max_request from
/// the block limits (capped at 32 MiB), flush always (SYNCHRONIZE CACHE(16)), FUA when
/// MODE SENSE says DPOFUA, trim when a trim method is usable, no write-zeroes.
TransportInfo to_transport_info(const LuIdentity& id);

/// Picks the trim method: UNMAP when LBPME and VPD 0xB2 LBPU (or 0xB0 max unmap count > 0),
/// else WRITE SAME(16) with UNMAP when LBPME and LBPWS, else none.
TrimMethod choose_trim(const Capacity& cap, const std::optional<BlockLimits>& limits,
                       const std::optional<LogicalBlockProvisioning>& lbp);

} // namespace mpiod::scsi
