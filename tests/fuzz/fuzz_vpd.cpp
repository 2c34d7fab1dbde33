// Fuzz target: the SCSI data-in parsers of transports/scsi (INQUIRY and its VPD pages, READ
// CAPACITY(16), REPORT LUNS, REPORT TARGET PORT GROUPS, sense data). Byte 0 chooses the parser,
// the rest is the data a device returned. Bad data must end in ScsiDataError; anything else
// escaping aborts. libiscsi's decoders are not instrumented: an out-of-bounds read inside
// libiscsi is caught only if it faults, which is why the parsers bound every length first.
#include <cstddef>
#include <cstdint>
#include <span>

#include "tests/fuzz/fuzz_finding.hpp"
#include "transports/scsi/device_identification.hpp"
#include "transports/scsi/inquiry_data.hpp"
#include "transports/scsi/read_capacity.hpp"
#include "transports/scsi/report_luns.hpp"
#include "transports/scsi/scsi_data_error.hpp"
#include "transports/scsi/sense_data.hpp"
#include "transports/scsi/target_port_groups.hpp"

namespace {

using namespace mpiod::scsi;
using mpiod::fuzz::finding;

void device_identification(std::span<const std::uint8_t> page) {
    const DeviceIdentification id = parse_device_identification(page);
    const auto wwid = lu_wwid(id);
    if (wwid && wwid->size() < 2) {
        finding("a WWID of less than a type digit and one character");
    }
    (void)target_port_group(id);
    (void)relative_target_port(id);
}

void target_port_groups(std::span<const std::uint8_t> data) {
    (void)rtpg_length(data);
    const TargetPortGroups report = parse_report_target_port_groups(data);
    for (const TargetPortGroup& g : report.groups) {
        (void)path_access(g.state);
        (void)access_detail(g);
    }
    (void)find_group(report, 1, std::nullopt);
    (void)find_group(report, std::nullopt, 2);
}

void parse(std::uint8_t which, std::span<const std::uint8_t> data) {
    switch (which % 10) {
    case 0:
        (void)parse_standard_inquiry(data);
        break;
    case 1:
        (void)vpd_page_length(data);
        (void)parse_supported_vpd_pages(data);
        break;
    case 2:
        (void)parse_unit_serial_number(data);
        break;
    case 3:
        (void)parse_block_limits(data);
        break;
    case 4:
        (void)parse_logical_block_provisioning(data);
        break;
    case 5:
        device_identification(data);
        break;
    case 6:
        target_port_groups(data);
        break;
    case 7:
        (void)parse_read_capacity16(data);
        break;
    case 8:
        (void)report_luns_length(data);
        (void)parse_report_luns(data);
        break;
    default:
        (void)to_string(parse_sense(data));
        break;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return -1; // no parser chosen: keep it out of the corpus
    }
    try {
        parse(data[0], {data + 1, size - 1});
    } catch (const ScsiDataError&) {
        // Refused with a message: the expected outcome for most inputs.
    }
    return 0;
}
