// The bounds an NBD server puts on each connection so that no client, however broken or
// hostile, makes it buffer without limit or hold a connection open forever.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include <boost/asio/generic/stream_protocol.hpp>

namespace mpiod {

/// Every connection's socket, whatever the listener (Unix, TCP or an adopted socketpair).
using NbdSocket = boost::asio::generic::stream_protocol::socket;

struct NbdLimits {
    /// Requests are read through one buffer of this size: many headers per read syscall.
    std::size_t read_buffer_bytes = 256u << 10;
    /// Requests parsed but not yet answered; beyond this the connection stops reading.
    std::uint32_t max_in_flight = 256;
    /// READ/WRITE payload bytes of those requests; beyond this it stops reading too (a single
    /// request is always admitted, so a maximum-size request cannot stall the connection).
    std::uint64_t max_in_flight_bytes = 64u << 20;
    /// An invalid WRITE's payload is read and dropped to keep the stream in sync, up to this
    /// size; a larger one closes the connection.
    std::uint32_t max_discard_bytes = 64u << 20;
    /// Option data larger than this gets NBD_REP_ERR_TOO_BIG ...
    std::uint32_t max_option_bytes = 64u << 10;
    /// ... and when larger than this too, the connection is closed instead of reading it.
    std::uint32_t max_option_discard_bytes = 1u << 20;
    /// Options one connection may send before entering transmission.
    std::uint32_t max_options = 1024;
    /// Time from accept to the end of the handshake.
    std::chrono::milliseconds handshake_timeout = std::chrono::seconds(30);
};

} // namespace mpiod
