// run_event_loop behaves like io_context::run() whatever the busy-poll window: every handler
// runs, timers fire, it returns when the work is done or on stop(), and a window changed
// while it runs takes effect.
#include <chrono>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <catch2/catch.hpp>

#include "daemon/event_loop.hpp"

using namespace std::chrono_literals;
using mpiod::run_event_loop;

TEST_CASE("the event loop runs every handler and timer, then returns", "[daemon]") {
    auto spin = GENERATE(0us, 50us);
    CAPTURE(spin.count());
    boost::asio::io_context io;
    int chained = 0;
    std::function<void()> step = [&] {
        if (++chained < 1000) {
            boost::asio::post(io, step);
        }
    };
    boost::asio::post(io, step);
    bool fired = false;
    boost::asio::steady_timer timer(io, 20ms);
    timer.async_wait([&](boost::system::error_code ec) { fired = !ec; });
    std::size_t ran = run_event_loop(io, spin);
    CHECK(chained == 1000);
    CHECK(fired);
    CHECK(ran == 1001);
    CHECK(io.stopped());
}

TEST_CASE("stop() ends the event loop while work remains", "[daemon]") {
    auto spin = GENERATE(0us, 50us);
    CAPTURE(spin.count());
    boost::asio::io_context io;
    auto guard = boost::asio::make_work_guard(io); // work that never finishes on its own
    boost::asio::steady_timer timer(io, 10ms);
    timer.async_wait([&](boost::system::error_code) { io.stop(); });
    run_event_loop(io, spin);
    CHECK(io.stopped());
}

TEST_CASE("handlers posted from another thread are run by a polling loop", "[daemon]") {
    boost::asio::io_context io;
    auto guard = boost::asio::make_work_guard(io);
    std::chrono::microseconds spin = 1000us;
    int seen = 0;
    std::thread other([&] {
        for (int i = 0; i < 100; ++i) {
            boost::asio::post(io, [&] { ++seen; });
        }
        boost::asio::post(io, [&] {
            spin = 0us; // a reload turning polling off, seen at the next turn
            guard.reset();
        });
    });
    run_event_loop(io, spin);
    other.join();
    CHECK(seen == 100);
    CHECK(spin.count() == 0);
}
