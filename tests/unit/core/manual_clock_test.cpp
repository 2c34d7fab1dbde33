// The manual clock the engine tests stand on: timers fire in expiry order, only when time is
// moved, on their executor; cancelled and destroyed timers never fire.
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "tests/support/manual_clock.hpp"

using namespace mpiod;
using namespace mpiod::test;
using namespace std::chrono_literals;

namespace {

void run_ready(boost::asio::io_context& io) {
    io.restart();
    io.poll();
}

} // namespace

TEST_CASE("timers fire in expiry order as time advances, never before") {
    boost::asio::io_context io;
    ManualClock clock;
    const auto t0 = clock.now();
    auto late = clock.make_timer(io.get_executor());
    auto early = clock.make_timer(io.get_executor());
    std::vector<std::pair<int, Clock::time_point>> fired;
    late->arm(t0 + 30ms, [&] { fired.emplace_back(2, clock.now()); });
    early->arm(t0 + 10ms, [&] { fired.emplace_back(1, clock.now()); });
    CHECK(clock.next_expiry() == t0 + 10ms);

    clock.advance(5ms);
    run_ready(io);
    CHECK(fired.empty());
    clock.advance(30ms);
    run_ready(io);
    REQUIRE(fired.size() == 2);
    CHECK(fired[0].first == 1);
    CHECK(fired[1].first == 2);
    CHECK(clock.now() == t0 + 35ms);
    CHECK_FALSE(early->armed());
}

TEST_CASE("a cancelled, re-armed or destroyed timer does not fire its old call") {
    boost::asio::io_context io;
    ManualClock clock;
    const auto t0 = clock.now();
    int calls = 0;
    auto t = clock.make_timer(io.get_executor());
    t->arm(t0 + 10ms, [&] { calls += 1; });
    t->cancel();
    CHECK_FALSE(clock.next_expiry());
    t->arm(t0 + 10ms, [&] { calls += 10; });
    t->arm(t0 + 20ms, [&] { calls += 100; }); // replaces the first
    auto gone = clock.make_timer(io.get_executor());
    gone->arm(t0 + 5ms, [&] { calls += 1000; });
    gone.reset();
    clock.advance(1s);
    run_ready(io);
    CHECK(calls == 100);
}

TEST_CASE("run_until jumps from timer to timer and stops at the limit") {
    boost::asio::io_context io;
    ManualClock clock;
    const auto t0 = clock.now();
    auto t = clock.make_timer(io.get_executor());
    int ticks = 0;
    std::function<void()> tick = [&] {
        ++ticks;
        t->arm(clock.now() + 100ms, tick);
    };
    t->arm(t0 + 100ms, tick);
    CHECK(clock.run_until(io, [&] { return ticks == 5; }));
    CHECK(clock.now() == t0 + 500ms);
    CHECK_FALSE(clock.run_until(
        io, [] { return false; }, 250ms));
    CHECK(clock.now() == t0 + 750ms);
    CHECK(ticks == 7);
}
