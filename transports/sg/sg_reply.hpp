// How one sg v3 completion (struct sg_io_hdr after read()) becomes the shared SCSI layer's
// ScsiReply: the host byte (DID_*) and the legacy driver byte decide whether the device
// answered at all; then the SAM status and the sense bytes it wrote count.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "transports/scsi/scsi_reply.hpp"

namespace mpiod::sg {

/// The kernel no longer exports the DID_* values (sg3_utils keeps its own copy too).
namespace host_status {
inline constexpr std::uint16_t ok = 0x00;
inline constexpr std::uint16_t no_connect = 0x01;
inline constexpr std::uint16_t bus_busy = 0x02;
inline constexpr std::uint16_t time_out = 0x03;
inline constexpr std::uint16_t bad_target = 0x04;
inline constexpr std::uint16_t abort = 0x05;
inline constexpr std::uint16_t parity = 0x06;
inline constexpr std::uint16_t error = 0x07;
inline constexpr std::uint16_t reset = 0x08;
inline constexpr std::uint16_t bad_intr = 0x09;
inline constexpr std::uint16_t passthrough = 0x0a;
inline constexpr std::uint16_t soft_error = 0x0b;
inline constexpr std::uint16_t imm_retry = 0x0c;
inline constexpr std::uint16_t requeue = 0x0d;
inline constexpr std::uint16_t transport_disrupted = 0x0e;
inline constexpr std::uint16_t transport_failfast = 0x0f;
inline constexpr std::uint16_t transport_marginal = 0x14;
} // namespace host_status

/// "DID_NO_CONNECT", ... ("DID_0x42" for values without a name).
std::string host_status_name(std::uint16_t host);

/// The fields of a completed sg_io_hdr the outcome depends on.
struct SgCompletion {
    std::uint8_t status = 0;             // SAM status byte
    std::uint16_t host_status = 0;       // DID_*
    std::uint16_t driver_status = 0;     // legacy driver byte; only TIMEOUT matters (pre-5.14)
    std::span<const std::uint8_t> sense; // the sb_len_wr bytes the kernel wrote
};

/// transport_failed for a host byte that means the path is gone or broken (NO_CONNECT,
/// BAD_TARGET, TRANSPORT_FAILFAST/MARGINAL, ERROR, ABORT, PARITY, BAD_INTR, unknown values),
/// transport_busy for transient ones (BUS_BUSY, SOFT_ERROR, IMM_RETRY, REQUEUE,
/// TRANSPORT_DISRUPTED, RESET), timed_out for TIME_OUT or the legacy driver TIMEOUT,
/// otherwise completed with the status and the parsed sense. Data-in is the caller's.
scsi::ScsiReply to_scsi_reply(const SgCompletion& c);

} // namespace mpiod::sg
