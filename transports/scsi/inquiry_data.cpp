// Standard INQUIRY and VPD 0x00/0x80/0xB0/0xB2, checked here and decoded by libiscsi.
#include "transports/scsi/inquiry_data.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <iscsi/scsi-lowlevel.h>

#include "transports/scsi/scsi_command.hpp"
#include "transports/scsi/scsi_data_error.hpp"
#include "transports/scsi/unmarshall.hpp"

namespace mpiod::scsi {

namespace {

std::string trim(std::string_view s) {
    auto blank = [](char c) { return c == ' ' || c == '\0' || c == '\t'; };
    while (!s.empty() && blank(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && blank(s.back())) {
        s.remove_suffix(1);
    }
    return std::string(s);
}

/// Checks a VPD page's header and returns the bytes that belong to it (header included).
std::span<const std::uint8_t> vpd_body(std::span<const std::uint8_t> page, std::uint8_t code) {
    auto len = vpd_page_length(page);
    if (!len) {
        throw ScsiDataError(fmt::format("VPD 0x{:02x}: {} bytes, shorter than its 4-byte header",
                                        code, page.size()));
    }
    if (page[1] != code) {
        throw ScsiDataError(
            fmt::format("VPD 0x{:02x}: the device returned page 0x{:02x}", code, page[1]));
    }
    if (*len > page.size()) {
        throw ScsiDataError(fmt::format("VPD 0x{:02x} truncated: page length says {} bytes, got {}",
                                        code, *len, page.size()));
    }
    return page.first(*len);
}

template <class T>
T* decode_vpd(detail::TaskPtr& task, std::span<const std::uint8_t> body, std::uint8_t code,
              const char* what) {
    task = detail::task_with_datain(
        inquiry_command(true, code, static_cast<std::uint16_t>(body.size())), body);
    return static_cast<T*>(detail::unmarshall(task.get(), what));
}

} // namespace

std::optional<std::uint32_t> vpd_page_length(std::span<const std::uint8_t> page) {
    if (page.size() < 4) {
        return std::nullopt;
    }
    return 4u + ((std::uint32_t{page[2]} << 8) | page[3]);
}

StandardInquiry parse_standard_inquiry(std::span<const std::uint8_t> data) {
    if (data.size() < 36) {
        throw ScsiDataError(
            fmt::format("standard INQUIRY data truncated: {} bytes, need 36", data.size()));
    }
    auto task = detail::task_with_datain(inquiry_command(false, 0, 255), data);
    const auto* inq =
        static_cast<scsi_inquiry_standard*>(detail::unmarshall(task.get(), "standard INQUIRY"));
    StandardInquiry out;
    out.qualifier = static_cast<std::uint8_t>(detail::raw_field(inq->qualifier));
    out.device_type = static_cast<std::uint8_t>(detail::raw_field(inq->device_type));
    out.tpgs = static_cast<std::uint8_t>(inq->tpgs);
    out.cmdque = inq->cmdque != 0;
    out.vendor = trim(inq->vendor_identification);
    out.product = trim(inq->product_identification);
    out.revision = trim(inq->product_revision_level);
    return out;
}

std::vector<std::uint8_t> parse_supported_vpd_pages(std::span<const std::uint8_t> page) {
    auto body = vpd_body(page, 0x00);
    if (body[2] != 0) { // libiscsi reads the one-byte length in byte 3 only
        throw ScsiDataError("VPD 0x00 malformed: more than 255 page codes");
    }
    detail::TaskPtr task;
    auto* inq = decode_vpd<scsi_inquiry_supported_pages>(task, body, 0x00, "VPD 0x00");
    return {inq->pages, inq->pages + inq->num_pages};
}

std::string parse_unit_serial_number(std::span<const std::uint8_t> page) {
    auto body = vpd_body(page, 0x80);
    if (body[2] != 0) {
        throw ScsiDataError("VPD 0x80 malformed: serial number longer than 255 bytes");
    }
    detail::TaskPtr task;
    auto* inq = decode_vpd<scsi_inquiry_unit_serial_number>(task, body, 0x80, "VPD 0x80");
    return trim(std::string_view(inq->usn, body.size() - 4));
}

BlockLimits parse_block_limits(std::span<const std::uint8_t> page) {
    auto body = vpd_body(page, 0xb0);
    detail::TaskPtr task;
    auto* inq = decode_vpd<scsi_inquiry_block_limits>(task, body, 0xb0, "VPD 0xB0");
    // Fields past a short (SBC-2, 12-byte) page read as 0 = "no limit reported".
    BlockLimits out;
    out.max_transfer = inq->max_xfer_len;
    out.optimal_transfer = inq->opt_xfer_len;
    out.max_unmap_lba_count = inq->max_unmap;
    out.max_unmap_descriptors = inq->max_unmap_bdc;
    out.max_write_same = inq->max_ws_len;
    return out;
}

LogicalBlockProvisioning parse_logical_block_provisioning(std::span<const std::uint8_t> page) {
    auto body = vpd_body(page, 0xb2);
    if (body.size() < 8) {
        throw ScsiDataError(fmt::format("VPD 0xB2 truncated: {} bytes, need 8", body.size()));
    }
    detail::TaskPtr task;
    auto* inq = decode_vpd<scsi_inquiry_logical_block_provisioning>(task, body, 0xb2, "VPD 0xB2");
    return {inq->lbpu != 0, inq->lbpws != 0, inq->lbprz != 0};
}

} // namespace mpiod::scsi
