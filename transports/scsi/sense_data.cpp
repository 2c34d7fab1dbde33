#include "transports/scsi/sense_data.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>
#include <iscsi/scsi-lowlevel.h>

namespace mpiod::scsi {

SenseData parse_sense(std::span<const std::uint8_t> bytes) {
    // Fixed format needs 14 bytes for ASC/ASCQ, descriptor format 4. libiscsi reads up to
    // byte 8 + ADDITIONAL LENGTH (<= 255) without a length: give it a zero-padded copy.
    if (bytes.size() < 4) {
        return {};
    }
    std::uint8_t code = bytes[0] & 0x7f;
    if (code < 0x70 || code > 0x73 || ((code == 0x70 || code == 0x71) && bytes.size() < 14)) {
        return {};
    }
    std::array<std::uint8_t, 8 + 256 + 16> padded{};
    std::copy_n(bytes.begin(), std::min(bytes.size(), padded.size()), padded.begin());
    scsi_sense s{};
    scsi_parse_sense_data(&s, padded.data());
    return sense_from_key_ascq(s.error_type, s.key, s.ascq);
}

SenseData sense_from_key_ascq(int error_type, int key, int asc_ascq) noexcept {
    SenseData out;
    out.response_code = static_cast<std::uint8_t>(error_type & 0x7f);
    out.key = static_cast<std::uint8_t>(key & 0x0f);
    out.asc = static_cast<std::uint8_t>((asc_ascq >> 8) & 0xff);
    out.ascq = static_cast<std::uint8_t>(asc_ascq & 0xff);
    return out;
}

std::string to_string(const SenseData& sense) {
    if (!sense.valid()) {
        return "no sense data";
    }
    // libiscsi has no name for every key (0xC, 0xF): a NULL would throw inside fmt.
    const char* key = scsi_sense_key_str(sense.key);
    return fmt::format("{}{} {:02x}/{:02x}", sense.deferred() ? "deferred " : "",
                       key != nullptr ? std::string(key)
                                      : fmt::format("SENSE KEY 0x{:x}", sense.key),
                       sense.asc, sense.ascq);
}

} // namespace mpiod::scsi
