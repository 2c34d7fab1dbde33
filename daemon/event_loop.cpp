// run_event_loop: poll for a while after work, then block.
#include "daemon/event_loop.hpp"

namespace mpiod {

std::size_t run_event_loop(boost::asio::io_context& io, const std::chrono::microseconds& spin) {
    using LoopClock = std::chrono::steady_clock;
    std::size_t total = 0;
    auto last_work = LoopClock::now();
    for (;;) {
        if (spin.count() > 0) {
            std::size_t n = io.poll();
            total += n;
            if (io.stopped()) {
                return total;
            }
            if (n > 0) {
                last_work = LoopClock::now();
                continue;
            }
            if (LoopClock::now() - last_work < spin) {
                continue;
            }
        }
        // Nothing for a while (or no polling): sleep in epoll until something happens.
        total += io.run_one();
        if (io.stopped()) {
            return total;
        }
        last_work = LoopClock::now();
    }
}

} // namespace mpiod
