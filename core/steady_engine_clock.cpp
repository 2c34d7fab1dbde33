// The production EngineClock: steady_clock, and timers on boost::asio::steady_timer.
#include <cstdint>
#include <utility>

#include <boost/asio/steady_timer.hpp>

#include "core/engine_clock.hpp"

namespace mpiod {

namespace {

class SteadyTimer final : public EngineTimer {
public:
    explicit SteadyTimer(boost::asio::any_io_executor ex) : timer_(std::move(ex)) {}
    ~SteadyTimer() override { cancel(); }
    SteadyTimer(const SteadyTimer&) = delete;
    SteadyTimer& operator=(const SteadyTimer&) = delete;

    void arm(Clock::time_point when, std::function<void()> fire) override {
        // A wait that already completed but has not run yet cannot be cancelled: the
        // generation tells a stale completion from the current one.
        auto generation = ++*generation_;
        armed_ = true;
        timer_.expires_at(when);
        timer_.async_wait([this, live = generation_, generation,
                           fire = std::move(fire)](boost::system::error_code ec) {
            if (ec || *live != generation) {
                return;
            }
            armed_ = false;
            fire();
        });
    }
    void cancel() noexcept override {
        ++*generation_;
        armed_ = false;
        timer_.cancel();
    }
    bool armed() const noexcept override { return armed_; }

private:
    boost::asio::steady_timer timer_;
    // Shared with pending completions, so that one running after the timer is gone sees a
    // generation that moved on (destruction cancels) and touches nothing else.
    std::shared_ptr<std::uint64_t> generation_ = std::make_shared<std::uint64_t>(0);
    bool armed_ = false;
};

class SteadyEngineClock final : public EngineClock {
public:
    Clock::time_point now() const noexcept override { return Clock::now(); }
    std::unique_ptr<EngineTimer> make_timer(boost::asio::any_io_executor ex) override {
        return std::make_unique<SteadyTimer>(std::move(ex));
    }
};

} // namespace

std::shared_ptr<EngineClock> steady_engine_clock() {
    static auto clock = std::make_shared<SteadyEngineClock>();
    return clock;
}

} // namespace mpiod
