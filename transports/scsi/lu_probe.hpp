// The identity probe every SCSI path runs at open (and so again before a reinstated path
// carries I/O): TEST UNIT READY, standard INQUIRY, VPD 0x00, 0x83 (0x80 as fallback), 0xB0,
// 0xB2, READ CAPACITY(16), MODE SENSE(6), and with ALUA REPORT TARGET PORT GROUPS.
// Transport-neutral: it sends commands through a ScsiRunner the transport provides.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <boost/system/error_code.hpp>

#include "core/completion.hpp"
#include "transports/scsi/lu_identity.hpp"
#include "transports/scsi/scsi_command.hpp"
#include "transports/scsi/scsi_reply.hpp"
#include "transports/scsi/target_port_groups.hpp"

namespace mpiod::scsi {

/// Sends one command on the path and calls back exactly once with its final reply, data-in
/// in reply.data. The transport applies its same-path retries (UNIT ATTENTION after login,
/// BUSY...) before calling back; the callback may send the next command from inside.
using ScsiReplyHandler = std::function<void(ScsiReply)>;
using ScsiRunner = std::function<void(ScsiCommand, ScsiReplyHandler)>;

/// ec: io_error (a command failed: `why` says which and how), bad_message (a page the
/// parsers refused), not_supported (not a block device), no_such_device (no LU at this LUN),
/// timed_out (a command timed out). Called from inside a runner callback: the transport
/// posts it on to core.
using LuProbeCompletion = Completion<boost::system::error_code, std::string, LuIdentity>;

void probe_lu(ScsiRunner run, LuProbeCompletion done);

struct AluaState {
    PathAccess access = PathAccess::optimized;
    std::string detail; // "tpg 1"
    std::optional<std::chrono::milliseconds> transition_timeout;
};

/// REPORT TARGET PORT GROUPS (extended header first, plain on ILLEGAL REQUEST), matched to
/// this path's group. nullopt with `why` when the command fails or no group matches.
using AluaCompletion = std::function<void(std::optional<AluaState>, std::string why)>;
void read_alua_state(ScsiRunner run, std::optional<std::uint16_t> tpg,
                     std::optional<std::uint16_t> relative_port, AluaCompletion done);

} // namespace mpiod::scsi
