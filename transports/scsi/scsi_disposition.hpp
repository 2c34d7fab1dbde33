// What to do with a SCSI command's outcome. One table for every SCSI transport, after the
// kernel's split (blk_path_error, scsi_check_sense, scsi_dh_alua): a failure another path
// may fix, a condition to retry on the same path, or the storage's answer for the client.
#pragma once

#include <cstdint>
#include <string_view>

#include "transports/scsi/scsi_reply.hpp"

namespace mpiod::scsi {

enum class Action : std::uint8_t {
    ok,
    retry,         // at once, a few times: UNIT ATTENTION, ABORTED COMMAND, deferred error...
    retry_later,   // after a short delay, bounded in time: BUSY, TASK SET FULL, becoming ready
    transitioning, // ALUA 04/0A: every second until the transition timeout
    path_error,    // fail over
    timed_out,     // fail over; the command may still run on the target (fence it)
    target_error,  // the storage's answer: to the client with `error`, path stays
};

struct Disposition {
    Action action = Action::ok;
    int error = 0;                // errno for target_error (and informative otherwise)
    bool refresh_access = false;  // ALUA state may have changed: re-read RTPG
    std::string_view reason = ""; // short, for logs
};

Disposition classify(const ScsiReply& reply) noexcept;

std::string_view to_string(Action action) noexcept;

} // namespace mpiod::scsi
