// An EngineClock that only moves when the test says so. Timers fire in expiry order as time
// is advanced (posted to their executor, like Asio's); run_until() alternates between running
// the io_context and jumping to the next timer, so a test of a 10 s deadline takes
// microseconds and never depends on how busy the machine is.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "core/engine_clock.hpp"

namespace mpiod::test {

class ManualClock final : public EngineClock {
public:
    ManualClock() = default;
    ~ManualClock() override;
    ManualClock(const ManualClock&) = delete;
    ManualClock& operator=(const ManualClock&) = delete;

    Clock::time_point now() const noexcept override { return now_; }
    std::unique_ptr<EngineTimer> make_timer(boost::asio::any_io_executor ex) override;

    /// The earliest expiry of an armed timer.
    std::optional<Clock::time_point> next_expiry() const;
    /// Moves time to the earliest expiry and fires that timer; false when none is armed.
    bool fire_next();
    /// Moves time forward by `d`, firing every timer that falls due on the way.
    void advance(Clock::duration d);

    /// Runs `io` and fires timers in expiry order until `done` holds (true) or no timer is
    /// left before `limit` of clock time has passed (false; time then stands at the limit).
    bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
                   Clock::duration limit = std::chrono::seconds(60));
    /// Runs `io` with time moving forward by `d`, firing what falls due; ends at now + d.
    void run_for(boost::asio::io_context& io, Clock::duration d);

private:
    class Timer;
    friend class Timer;
    Timer* earliest() const;

    // Any start will do; not zero, so that "never set" time points stay in the past.
    Clock::time_point now_{std::chrono::hours(1)};
    std::vector<Timer*> timers_; // every live timer, armed or not
};

} // namespace mpiod::test
