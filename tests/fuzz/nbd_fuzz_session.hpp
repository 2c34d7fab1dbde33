// One connection of the NBD server driven by fuzzer bytes: the client end of a socketpair sends
// them and collects everything the server answers. Shared by the handshake and transmission
// targets, which differ in how the connection starts and in what they check afterwards.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "exports/nbd/nbd_connection.hpp"
#include "exports/nbd/nbd_limits.hpp"
#include "tests/fuzz/fuzz_finding.hpp"

namespace mpiod::fuzz {

/// Starts the connection under test (start_handshake or start_transmission).
using StartConnection = std::function<void(nbd::NbdConnection&)>;

/// Sends `client_bytes` to a new NbdConnection, shuts down the client's sending side, and
/// returns every byte the server sent until it closed the connection. A connection that has
/// not closed (and released its work) within a few seconds of the client's EOF is a finding:
/// the process aborts, so libFuzzer saves the input.
std::vector<std::byte> run_nbd_connection(boost::asio::io_context& ctx,
                                          std::span<const std::uint8_t> client_bytes,
                                          const NbdLimits& limits, const StartConnection& start);

} // namespace mpiod::fuzz
