// The engine's time: a clock to read and one-shot timers to arm. The daemon uses the steady
// clock and Asio timers (steady_engine_clock); engine tests use a manual clock that they
// advance by hand (tests/support/manual_clock.hpp), so deadlines are tested without waiting.
#pragma once

#include <functional>
#include <memory>

#include <boost/asio/any_io_executor.hpp>

#include "core/clock.hpp"

namespace mpiod {

/// One pending call at a time: arming again replaces it, cancel() or destruction drops it.
class EngineTimer {
public:
    virtual ~EngineTimer() = default;
    /// Calls `fire` once, on the timer's executor, when the clock reaches `when`.
    virtual void arm(Clock::time_point when, std::function<void()> fire) = 0;
    virtual void cancel() noexcept = 0;
    virtual bool armed() const noexcept = 0;
};

class EngineClock {
public:
    virtual ~EngineClock() = default;
    virtual Clock::time_point now() const noexcept = 0;
    virtual std::unique_ptr<EngineTimer> make_timer(boost::asio::any_io_executor ex) = 0;
};

/// std::chrono::steady_clock with boost::asio::steady_timer.
std::shared_ptr<EngineClock> steady_engine_clock();

} // namespace mpiod
