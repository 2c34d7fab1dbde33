// How one SCSI command ended, as any transport reports it to the shared layer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "transports/scsi/sense_data.hpp"

namespace mpiod::scsi {

enum class CommandEnd : std::uint8_t {
    completed,        // the device answered: see status (and sense)
    transport_failed, // connection lost, cancelled, protocol error, device gone
    timed_out,        // no answer within the transport's command timeout
    /// Not delivered for a transient reason below the device (SG host byte BUS_BUSY,
    /// SOFT_ERROR, IMM_RETRY, REQUEUE, TRANSPORT_DISRUPTED, RESET): retried later, bounded.
    transport_busy,
};

namespace status {
inline constexpr std::uint8_t good = 0x00;
inline constexpr std::uint8_t check_condition = 0x02;
inline constexpr std::uint8_t condition_met = 0x04;
inline constexpr std::uint8_t busy = 0x08;
inline constexpr std::uint8_t reservation_conflict = 0x18;
inline constexpr std::uint8_t task_set_full = 0x28;
inline constexpr std::uint8_t aca_active = 0x30;
inline constexpr std::uint8_t task_aborted = 0x40;
} // namespace status

struct ScsiReply {
    CommandEnd end = CommandEnd::completed;
    std::uint8_t status = status::good; // SAM status when end == completed
    SenseData sense;                    // when status == check_condition
    std::vector<std::uint8_t> data;     // data-in received (commands without a caller buffer)
    std::string transport_error;        // why, when end != completed
};

} // namespace mpiod::scsi
