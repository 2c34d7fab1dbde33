// The fixed-newstyle handshake of one connection, from the greeting to NBD_OPT_GO or
// NBD_OPT_EXPORT_NAME: structured replies and the base:allocation meta context when the
// client asks; TLS and extended headers are answered NBD_REP_ERR_UNSUP, which every client
// handles.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "core/io_target.hpp"
#include "exports/nbd/nbd_limits.hpp"
#include "exports/nbd/nbd_request_check.hpp"

namespace mpiod::nbd {

/// The exports a connection may choose from, fixed when it was accepted.
struct ExportChoice {
    std::vector<std::shared_ptr<IoTarget>> targets;
    /// A socket serving one LU: every name, "" included, selects targets.front().
    bool any_name = false;

    /// The target `name` selects: by name, or "" when there is exactly one. Null if none.
    std::shared_ptr<IoTarget> find(std::string_view name) const;
};

struct HandshakeOutcome {
    std::shared_ptr<IoTarget> target; // set when the client entered the transmission phase
    Negotiated negotiated;            // what the transmission phase speaks
    std::string reason;               // otherwise why the connection ends
    bool violation = false;           // the reason is the client's fault (logged at warn)
};

/// Runs the handshake on `socket` (which must outlive the coroutine; its owner keeps it alive
/// through the co_spawn completion). Never throws: socket errors end up in `reason`.
boost::asio::awaitable<HandshakeOutcome> negotiate(NbdSocket& socket, ExportChoice exports,
                                                   NbdLimits limits);

} // namespace mpiod::nbd
