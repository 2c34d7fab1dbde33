// The no-path queue on its own: what it accepts, its time bound, and recovery.
#include <algorithm>
#include <cstdint>

#include <catch2/catch.hpp>

#include "core/no_path_queue.hpp"

using namespace mpiod;
using namespace std::chrono_literals;

TEST_CASE("no_path_retry fail accepts nothing; queue and a timeout accept I/O") {
    LuIdentity lu{"lu0", "w"};
    NoPathQueue q(lu);
    CHECK_FALSE(q.accepts(NoPathRetry::fail()));
    CHECK(q.accepts(NoPathRetry::queue()));
    CHECK(q.accepts(NoPathRetry::after(100ms)));
}

TEST_CASE("queued I/O expires after the no_path_retry time, then new I/O is refused") {
    LuIdentity lu{"lu0", "w"};
    NoPathQueue q(lu);
    const auto policy = NoPathRetry::after(150ms);
    const Clock::time_point t0{std::chrono::hours(1)};
    q.paths_lost(t0, policy);
    auto* io = new EngineIo;
    q.push(*io, policy, t0);
    CHECK_FALSE(q.expired(t0 + 149ms, policy));
    CHECK(q.expired(t0 + 150ms, policy));
    CHECK(q.failing());
    CHECK_FALSE(q.accepts(policy));
    auto taken = q.take_all(t0 + 150ms);
    CHECK(taken.size() == 1);
    CHECK(q.empty());
    taken.clear_and_dispose([](EngineIo* r) { delete r; });

    q.paths_back(t0 + 1s); // a path returned: queueing is allowed again
    CHECK_FALSE(q.failing());
    CHECK_FALSE(q.all_down());
    CHECK(q.accepts(policy));
}

TEST_CASE("no_path_retry queue never expires; an empty queue never expires") {
    LuIdentity lu{"lu0", "w"};
    NoPathQueue q(lu);
    const Clock::time_point t0{std::chrono::hours(1)};
    q.paths_lost(t0, NoPathRetry::queue());
    CHECK_FALSE(q.expired(t0 + 24h, NoPathRetry::after(1ms))); // nothing queued
    auto* io = new EngineIo;
    q.push(*io, NoPathRetry::queue(), t0);
    CHECK_FALSE(q.expired(t0 + 24h, NoPathRetry::queue()));
    // The destructor releases what is still queued.
}

TEST_CASE("the time each I/O waited in the queue is counted when it leaves") {
    LuIdentity lu{"lu0", "w"};
    NoPathQueue q(lu);
    const Clock::time_point t0{std::chrono::hours(1)};
    q.paths_lost(t0, NoPathRetry::queue());
    auto* first = new EngineIo;
    auto* second = new EngineIo;
    q.push(*first, NoPathRetry::queue(), t0);
    q.push(*second, NoPathRetry::queue(), t0 + 30ms);
    const auto& before = q.waits().counts();
    CHECK(std::all_of(before.begin(), before.end(), [](auto c) { return c == 0; }));
    auto taken = q.take_all(t0 + 50ms); // waited 50 ms and 20 ms
    taken.clear_and_dispose([](EngineIo* r) { delete r; });
    const auto& counts = q.waits().counts();
    CHECK(counts[LatencyHistogram::bucket_of(50'000)] == 1);
    CHECK(counts[LatencyHistogram::bucket_of(20'000)] == 1);
    std::uint64_t total = 0;
    for (auto c : counts) {
        total += c;
    }
    CHECK(total == 2);
}
