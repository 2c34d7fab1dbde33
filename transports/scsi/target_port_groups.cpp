// REPORT TARGET PORT GROUPS (SPC-4 6.37): header, optional extended header, descriptors.
#include "transports/scsi/target_port_groups.hpp"

#include <fmt/format.h>

#include "transports/scsi/scsi_data_error.hpp"

namespace mpiod::scsi {

namespace {

std::uint16_t be16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

} // namespace

std::optional<std::uint32_t> rtpg_length(std::span<const std::uint8_t> data) {
    if (data.size() < 4) {
        return std::nullopt;
    }
    std::uint32_t n = (std::uint32_t{data[0]} << 24) | (std::uint32_t{data[1]} << 16) |
                      (std::uint32_t{data[2]} << 8) | data[3];
    return n > 0xffffffffu - 4 ? 0xffffffffu : n + 4;
}

TargetPortGroups parse_report_target_port_groups(std::span<const std::uint8_t> data) {
    auto len = rtpg_length(data);
    if (!len) {
        throw ScsiDataError(fmt::format(
            "REPORT TARGET PORT GROUPS: {} bytes, shorter than its 4-byte header", data.size()));
    }
    if (*len > data.size()) {
        throw ScsiDataError(fmt::format("REPORT TARGET PORT GROUPS truncated: return data length "
                                        "says {} bytes, got {}",
                                        *len, data.size()));
    }
    TargetPortGroups out;
    std::size_t at = 4;
    // Extended header: byte 4 bits 6-4 = 001b, byte 5 = implicit transition time.
    if (*len >= 8 && ((data[4] >> 4) & 0x7) == 1) {
        out.implicit_transition_seconds = data[5];
        at = 8;
    }
    while (at < *len) {
        if (at + 8 > *len) {
            throw ScsiDataError(fmt::format("REPORT TARGET PORT GROUPS malformed: descriptor at "
                                            "byte {} runs past the data end ({} bytes)",
                                            at, *len));
        }
        TargetPortGroup g;
        g.preferred = (data[at] & 0x80) != 0;
        g.state = data[at] & 0x0f;
        g.supported_states = data[at + 1];
        g.id = be16(&data[at + 2]);
        g.status_code = data[at + 5];
        std::size_t ports = data[at + 7];
        if (at + 8 + 4 * ports > *len) {
            throw ScsiDataError(fmt::format("REPORT TARGET PORT GROUPS malformed: group {} lists "
                                            "{} ports past the data end ({} bytes)",
                                            g.id, ports, *len));
        }
        for (std::size_t p = 0; p < ports; ++p) {
            g.relative_ports.push_back(be16(&data[at + 8 + 4 * p + 2]));
        }
        at += 8 + 4 * ports;
        out.groups.push_back(std::move(g));
    }
    return out;
}

const TargetPortGroup* find_group(const TargetPortGroups& report, std::optional<std::uint16_t> tpg,
                                  std::optional<std::uint16_t> relative_port) {
    if (tpg) {
        for (const auto& g : report.groups) {
            if (g.id == *tpg) {
                return &g;
            }
        }
        return nullptr;
    }
    if (relative_port) {
        for (const auto& g : report.groups) {
            for (std::uint16_t p : g.relative_ports) {
                if (p == *relative_port) {
                    return &g;
                }
            }
        }
    }
    return nullptr;
}

PathAccess path_access(std::uint8_t state) noexcept {
    switch (state) {
    case alua_state::active_optimized:
        return PathAccess::optimized;
    case alua_state::active_non_optimized:
    case alua_state::lba_dependent:
        return PathAccess::non_optimized;
    case alua_state::standby:
        return PathAccess::standby;
    case alua_state::transitioning:
        return PathAccess::transitioning;
    default:
        return PathAccess::unavailable;
    }
}

std::string access_detail(const TargetPortGroup& group) {
    return fmt::format("tpg {}{}", group.id, group.preferred ? ", preferred" : "");
}

} // namespace mpiod::scsi
