// The daemon's event loop: io_context::run() with optional adaptive busy polling. After any
// handler ran, the loop keeps polling (non-blocking) for `spin` before it blocks in epoll
// again: a reply that arrives within that window is handled without the sleep and wake-up
// a blocking wait costs (tens of microseconds per hop on a loaded or virtual machine).
// Idle, it blocks as usual; busy, it spends at most `spin` of CPU per burst of work.
#pragma once

#include <chrono>
#include <cstddef>

#include <boost/asio/io_context.hpp>

namespace mpiod {

/// Runs `io` until it runs out of work or is stopped, like io.run(). `spin` is read at
/// every turn, so a reload may change it; 0 = no polling.
std::size_t run_event_loop(boost::asio::io_context& io, const std::chrono::microseconds& spin);

} // namespace mpiod
