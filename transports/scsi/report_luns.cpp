#include "transports/scsi/report_luns.hpp"

#include <fmt/format.h>
#include <iscsi/scsi-lowlevel.h>

#include "transports/scsi/scsi_command.hpp"
#include "transports/scsi/scsi_data_error.hpp"
#include "transports/scsi/unmarshall.hpp"

namespace mpiod::scsi {

std::optional<std::uint32_t> report_luns_length(std::span<const std::uint8_t> data) {
    if (data.size() < 8) {
        return std::nullopt;
    }
    std::uint32_t list = (std::uint32_t{data[0]} << 24) | (std::uint32_t{data[1]} << 16) |
                         (std::uint32_t{data[2]} << 8) | data[3];
    return list > 0xffffffffu - 8 ? 0xffffffffu : list + 8;
}

std::vector<std::uint16_t> parse_report_luns(std::span<const std::uint8_t> data) {
    auto len = report_luns_length(data);
    if (!len) {
        throw ScsiDataError(
            fmt::format("REPORT LUNS: {} bytes, shorter than its 8-byte header", data.size()));
    }
    if (*len > data.size()) {
        throw ScsiDataError(fmt::format("REPORT LUNS truncated: list length says {} bytes, got {}",
                                        *len, data.size()));
    }
    if (*len % 8 != 0) {
        throw ScsiDataError(fmt::format("REPORT LUNS malformed: list length {} is not a multiple "
                                        "of 8",
                                        *len - 8));
    }
    auto task = detail::task_with_datain(report_luns_command(*len), data.first(*len));
    const auto* list =
        static_cast<scsi_reportluns_list*>(detail::unmarshall(task.get(), "REPORT LUNS"));
    std::vector<std::uint16_t> out;
    for (std::uint32_t i = 0; i < list->num; ++i) {
        std::uint16_t raw = list->luns[i];
        switch (raw >> 14) {
        case 0: // peripheral device addressing, bus 0
            if ((raw >> 8) == 0) {
                out.push_back(raw & 0xff);
            }
            break;
        case 1: // flat space addressing
            out.push_back(raw & 0x3fff);
            break;
        default:
            break;
        }
    }
    return out;
}

} // namespace mpiod::scsi
