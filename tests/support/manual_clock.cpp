// The manual clock of engine tests.
#include "tests/support/manual_clock.hpp"

#include <algorithm>
#include <utility>

#include <boost/asio/post.hpp>

namespace mpiod::test {

class ManualClock::Timer final : public EngineTimer {
public:
    Timer(ManualClock& clock, boost::asio::any_io_executor ex)
        : clock_(&clock), ex_(std::move(ex)) {
        clock_->timers_.push_back(this);
    }
    ~Timer() override {
        if (clock_ != nullptr) {
            std::erase(clock_->timers_, this);
        }
    }
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    void arm(Clock::time_point when, std::function<void()> fire) override {
        when_ = when;
        fire_ = std::move(fire);
    }
    void cancel() noexcept override { fire_ = nullptr; }
    bool armed() const noexcept override { return static_cast<bool>(fire_); }

    Clock::time_point when() const noexcept { return when_; }
    void fire() {
        auto f = std::move(fire_);
        fire_ = nullptr;
        boost::asio::post(ex_, std::move(f));
    }
    void orphan() noexcept { clock_ = nullptr; }

private:
    ManualClock* clock_;
    boost::asio::any_io_executor ex_;
    Clock::time_point when_{};
    std::function<void()> fire_;
};

ManualClock::~ManualClock() {
    for (Timer* t : timers_) {
        t->orphan();
    }
}

std::unique_ptr<EngineTimer> ManualClock::make_timer(boost::asio::any_io_executor ex) {
    return std::make_unique<Timer>(*this, std::move(ex));
}

ManualClock::Timer* ManualClock::earliest() const {
    Timer* best = nullptr;
    for (Timer* t : timers_) {
        if (t->armed() && (best == nullptr || t->when() < best->when())) {
            best = t;
        }
    }
    return best;
}

std::optional<Clock::time_point> ManualClock::next_expiry() const {
    if (Timer* t = earliest()) {
        return t->when();
    }
    return std::nullopt;
}

bool ManualClock::fire_next() {
    Timer* t = earliest();
    if (t == nullptr) {
        return false;
    }
    now_ = std::max(now_, t->when());
    t->fire();
    return true;
}

void ManualClock::advance(Clock::duration d) {
    const auto end = now_ + d;
    while (auto next = next_expiry()) {
        if (*next > end) {
            break;
        }
        fire_next();
    }
    now_ = end;
}

bool ManualClock::run_until(boost::asio::io_context& io, const std::function<bool()>& done,
                            Clock::duration limit) {
    const auto end = now_ + limit;
    for (;;) {
        io.restart();
        io.poll();
        if (done()) {
            return true;
        }
        auto next = next_expiry();
        if (!next || *next > end) {
            now_ = std::max(now_, end);
            return false;
        }
        fire_next();
    }
}

void ManualClock::run_for(boost::asio::io_context& io, Clock::duration d) {
    const auto end = now_ + d;
    run_until(
        io, [] { return false; }, d);
    now_ = end;
    io.restart();
    io.poll();
}

} // namespace mpiod::test
