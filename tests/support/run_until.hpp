// Drives an io_context from the test thread until a condition holds or a deadline
// passes. Tests wait on the event they assert, never on a fixed sleep.
#pragma once

#include <chrono>
#include <functional>

#include <boost/asio/io_context.hpp>

namespace mpiod::test {

inline bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
                      std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        io.restart();
        io.run_one_for(std::chrono::milliseconds(10));
    }
    return true;
}

} // namespace mpiod::test
