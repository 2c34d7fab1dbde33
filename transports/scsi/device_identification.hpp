// VPD page 0x83 (Device Identification): its designators, the LU's WWID chosen and
// rendered like multipath-tools, and the path's own target port / target port group.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace mpiod::scsi {

enum class Association : std::uint8_t { logical_unit = 0, target_port = 1, target_device = 2 };

namespace designator_type {
inline constexpr std::uint8_t vendor_specific = 0x0;
inline constexpr std::uint8_t t10_vendor_id = 0x1;
inline constexpr std::uint8_t eui64 = 0x2;
inline constexpr std::uint8_t naa = 0x3;
inline constexpr std::uint8_t relative_target_port = 0x4;
inline constexpr std::uint8_t target_port_group = 0x5;
inline constexpr std::uint8_t scsi_name_string = 0x8;
} // namespace designator_type

struct Designator {
    std::uint8_t protocol_identifier = 0;
    std::uint8_t code_set = 0; // 1 binary, 2 ASCII, 3 UTF-8
    bool piv = false;
    std::uint8_t association = 0; // Association, or 3 (reserved)
    std::uint8_t type = 0;
    std::vector<std::uint8_t> value;
};

struct DeviceIdentification {
    std::vector<Designator> designators; // in page order
};

/// Parses a VPD 0x83 page (header included) with libiscsi's unmarshaller after checking
/// every length against `page`. Throws ScsiDataError when the page is not 0x83, is shorter
/// than its page length says, or a designator runs past the end.
DeviceIdentification parse_device_identification(std::span<const std::uint8_t> page);

/// The LU's WWID from its best LU-associated designator, ranked and rendered like
/// multipath-tools: NAA 6 > NAA 5 > NAA 2 > EUI-64 > SCSI name string > T10 vendor id >
/// NAA 3; NAA and EUI-64 as type digit + lowercase hex ("36001405..."), SCSI name strings as
/// '2'/'3'/'8' + the name without its eui./naa./iqn. prefix, T10 as '1' + the text with
/// space runs turned into '_'. Designators of the wrong length are ignored; on a tie the
/// first in page order wins. nullopt when none qualifies.
std::optional<std::string> lu_wwid(const DeviceIdentification& id);

/// The target port group (type 5) / relative target port (type 4) of the port that answered.
std::optional<std::uint16_t> target_port_group(const DeviceIdentification& id);
std::optional<std::uint16_t> relative_target_port(const DeviceIdentification& id);

/// udev's fallback when page 0x83 gives nothing: 'S' + vendor(8) + product(16) + serial,
/// whitespace runs turned into '_' and trailing blanks dropped. nullopt for an empty serial.
std::optional<std::string> serial_wwid(std::string_view vendor, std::string_view product,
                                       std::string_view serial);

} // namespace mpiod::scsi
