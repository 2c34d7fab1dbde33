// ALUA: REPORT TARGET PORT GROUPS parameter data, parsed by hand (libiscsi 1.19 has no
// decoder for it), and the access state of one path's port group.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/transport.hpp"

namespace mpiod::scsi {

/// ASYMMETRIC ACCESS STATE values (SPC-4).
namespace alua_state {
inline constexpr std::uint8_t active_optimized = 0x0;
inline constexpr std::uint8_t active_non_optimized = 0x1;
inline constexpr std::uint8_t standby = 0x2;
inline constexpr std::uint8_t unavailable = 0x3;
inline constexpr std::uint8_t lba_dependent = 0x4;
inline constexpr std::uint8_t offline = 0xe;
inline constexpr std::uint8_t transitioning = 0xf;
} // namespace alua_state

struct TargetPortGroup {
    std::uint16_t id = 0;
    std::uint8_t state = 0; // alua_state
    bool preferred = false;
    std::uint8_t supported_states = 0; // T_SUP O_SUP LBD_SUP U_SUP S_SUP AN_SUP AO_SUP bits
    std::uint8_t status_code = 0;
    std::vector<std::uint16_t> relative_ports;
};

struct TargetPortGroups {
    /// IMPLICIT TRANSITION TIME in seconds from an extended header; nullopt without one.
    std::optional<std::uint8_t> implicit_transition_seconds;
    std::vector<TargetPortGroup> groups;
};

/// The whole length the data says it has (4-byte RETURN DATA LENGTH included); nullopt under
/// 4 bytes. A reply shorter than this should be re-read with a larger allocation length.
std::optional<std::uint32_t> rtpg_length(std::span<const std::uint8_t> data);

/// Throws ScsiDataError when the data is shorter than its return data length or a
/// descriptor (8 bytes + 4 per port) runs past it.
TargetPortGroups parse_report_target_port_groups(std::span<const std::uint8_t> data);

/// The group this path belongs to: by target port group id (VPD 0x83 type 5) when known,
/// else by relative target port id (type 4) membership. nullptr if none matches.
const TargetPortGroup* find_group(const TargetPortGroups& report, std::optional<std::uint16_t> tpg,
                                  std::optional<std::uint16_t> relative_port);

/// Core's view of an ALUA state: LBA-dependent counts as non-optimized, offline as
/// unavailable, reserved values as unavailable.
PathAccess path_access(std::uint8_t state) noexcept;

/// "tpg 1" (+ ", preferred"), for TransportInfo::access_detail.
std::string access_detail(const TargetPortGroup& group);

} // namespace mpiod::scsi
