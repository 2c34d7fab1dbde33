// The transmission-phase rules a request must pass before it reaches an IoTarget, and its
// translation into an IoRequest. Pure functions, so the rules are testable without sockets.
#pragma once

#include <cstdint>

#include "core/io_request.hpp"
#include "core/io_target.hpp"
#include "exports/nbd/nbd_wire.hpp"

namespace mpiod::nbd {

/// What the client and the server agreed in the handshake beyond the export itself.
struct Negotiated {
    bool structured = false;      // NBD_OPT_STRUCTURED_REPLY
    bool base_allocation = false; // base:allocation selected by NBD_OPT_SET_META_CONTEXT
};

/// What the server advertised to one connection; the rules check requests against it.
struct Advertised {
    ExportInfo info;
    BlockSizes sizes;
    std::uint16_t flags = 0;
    Negotiated negotiated;

    static Advertised from(const ExportInfo& info, Negotiated negotiated = {}) noexcept {
        return {info, block_sizes(info), transmission_flags(info, negotiated.structured),
                negotiated};
    }
};

/// The NBD error for a request (NBD_CMD_DISC excluded), or error_none when it may be submitted:
///  - unknown or unadvertised command (TRIM without SEND_TRIM, BLOCK_STATUS without
///    base:allocation negotiated...): EINVAL;
///  - WRITE, TRIM or WRITE_ZEROES on a read-only export: EPERM;
///  - flag bits the command does not take or the server did not advertise: EINVAL;
///  - READ/WRITE of length 0 or above the maximum payload, BLOCK_STATUS of length 0: EINVAL;
///  - a range past the end (or overflowing): ENOSPC for WRITE/WRITE_ZEROES, EINVAL otherwise
///    (the spec's distinction);
///  - offset or length not a multiple of the minimum block size: EINVAL.
std::uint32_t check_request(const RequestHeader& h, const Advertised& adv) noexcept;

/// The IoRequest for a request that passed check_request (without its data buffer).
IoRequest to_io_request(const RequestHeader& h) noexcept;

} // namespace mpiod::nbd
