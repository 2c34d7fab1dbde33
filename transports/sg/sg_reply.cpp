// sg v3 completion -> ScsiReply.
#include "transports/sg/sg_reply.hpp"

#include <array>
#include <cstdio>
#include <string>
#include <utility>

#include "transports/scsi/sense_data.hpp"

namespace mpiod::sg {

namespace {

constexpr std::uint16_t driver_timeout = 0x06;

enum class HostClass : std::uint8_t { ok, broken, busy, timed_out };

struct HostByte {
    std::uint16_t value;
    const char* name;
    HostClass cls;
};

// Follows the kernel's own reading of these bytes (sd_scsi_to_pr_err, scsi_decide_
// disposition): a transient condition below the device is retried on the same path, a
// missing or broken one fails the path.
constexpr std::array<HostByte, 17> host_bytes{{
    {host_status::ok, "DID_OK", HostClass::ok},
    {host_status::no_connect, "DID_NO_CONNECT", HostClass::broken},
    {host_status::bus_busy, "DID_BUS_BUSY", HostClass::busy},
    {host_status::time_out, "DID_TIME_OUT", HostClass::timed_out},
    {host_status::bad_target, "DID_BAD_TARGET", HostClass::broken},
    {host_status::abort, "DID_ABORT", HostClass::broken},
    {host_status::parity, "DID_PARITY", HostClass::broken},
    {host_status::error, "DID_ERROR", HostClass::broken},
    {host_status::reset, "DID_RESET", HostClass::busy},
    {host_status::bad_intr, "DID_BAD_INTR", HostClass::broken},
    {host_status::passthrough, "DID_PASSTHROUGH", HostClass::broken},
    {host_status::soft_error, "DID_SOFT_ERROR", HostClass::busy},
    {host_status::imm_retry, "DID_IMM_RETRY", HostClass::busy},
    {host_status::requeue, "DID_REQUEUE", HostClass::busy},
    {host_status::transport_disrupted, "DID_TRANSPORT_DISRUPTED", HostClass::busy},
    {host_status::transport_failfast, "DID_TRANSPORT_FAILFAST", HostClass::broken},
    {host_status::transport_marginal, "DID_TRANSPORT_MARGINAL", HostClass::broken},
}};

const HostByte* find_host(std::uint16_t host) {
    for (const auto& h : host_bytes) {
        if (h.value == host) {
            return &h;
        }
    }
    return nullptr;
}

} // namespace

std::string host_status_name(std::uint16_t host) {
    if (const HostByte* h = find_host(host)) {
        return h->name;
    }
    std::array<char, 16> text{};
    std::snprintf(text.data(), text.size(), "DID_0x%02x", host);
    return text.data();
}

scsi::ScsiReply to_scsi_reply(const SgCompletion& c) {
    scsi::ScsiReply r;
    const HostByte* h = find_host(c.host_status);
    HostClass cls = h != nullptr ? h->cls : HostClass::broken; // unknown: do not trust the path
    if (cls == HostClass::ok && (c.driver_status & 0x0f) == driver_timeout) {
        cls = HostClass::timed_out;
    }
    switch (cls) {
    case HostClass::broken:
        r.end = scsi::CommandEnd::transport_failed;
        r.transport_error = "host status " + host_status_name(c.host_status);
        return r;
    case HostClass::busy:
        r.end = scsi::CommandEnd::transport_busy;
        r.transport_error = "host status " + host_status_name(c.host_status);
        return r;
    case HostClass::timed_out:
        r.end = scsi::CommandEnd::timed_out;
        r.transport_error = c.host_status == host_status::time_out ? "host status DID_TIME_OUT"
                                                                   : "driver status TIMEOUT";
        return r;
    case HostClass::ok:
        break;
    }
    r.end = scsi::CommandEnd::completed;
    r.status = c.status;
    if (c.status == scsi::status::check_condition) {
        r.sense = scsi::parse_sense(c.sense);
    }
    return r;
}

} // namespace mpiod::sg
