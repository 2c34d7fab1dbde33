// Engine behaviour with no usable path: bounded queueing, fail, queue, release.
#include <cerrno>
#include <cstdint>
#include <numeric>

#include <catch2/catch.hpp>

#include "tests/unit/core/lu_fixture.hpp"

using namespace mpiod;
using namespace mpiod::test;

TEST_CASE("with every path down I/O queues for no_path_retry and then fails with EIO") {
    auto s = LuFixture::fast_settings();
    s.no_path_retry = NoPathRetry::after(Millis{150});
    LuFixture f(s);
    auto a = f.add("a");
    REQUIRE(f.wait_ready());
    a->open_fails = true;
    a->outcome = [](const IoRequest&) { return IoResult::path(ECONNRESET); };

    auto start = f.clock->now();
    auto c = f.submit(IoOp::read, 8192);
    REQUIRE(f.wait(c, std::chrono::seconds(5)));
    auto elapsed = f.clock->now() - start;
    CHECK(c->result.status == IoStatus::no_path);
    CHECK(to_errno(c->result) == EIO);
    CHECK(elapsed >= Millis{150});
    CHECK(elapsed <= Millis{160}); // failed at the first tick (5 ms) past the bound
    CHECK(f.lu->status().state == "failing");
    // Its wait in the no-path queue is counted: at least the 150 ms bound.
    const auto waits = f.lu->status().queue_wait.counts();
    CHECK(std::accumulate(waits.begin(), waits.end(), std::uint64_t{0}) == 1);
    CHECK(std::accumulate(waits.begin() + LatencyHistogram::bucket_of(150'000), waits.end(),
                          std::uint64_t{0}) == 1);

    // Once failing, new I/O fails at once instead of queueing again.
    auto again = f.submit(IoOp::read, 8192);
    REQUIRE(f.wait(again, Millis{100}));
    CHECK(again->result.status == IoStatus::no_path);
}

TEST_CASE("queued I/O completes on a path that comes back before no_path_retry expires") {
    auto s = LuFixture::fast_settings();
    s.no_path_retry = NoPathRetry::after(Millis{5000});
    LuFixture f(s);
    auto a = f.add("a");
    REQUIRE(f.wait_ready());
    REQUIRE(f.lu->fail_path("a"));

    auto c = f.submit(IoOp::write, 8192);
    REQUIRE(f.run_until([&] { return f.lu->status().queued == 1; }));
    CHECK(f.lu->status().state == "queueing");
    CHECK_FALSE(c->done);

    REQUIRE(f.lu->reinstate_path("a"));
    REQUIRE(f.wait(c));
    CHECK(c->result.ok());
    CHECK(f.data_ios("a", IoOp::write) == 1);
    const auto waits = f.lu->status().queue_wait.counts();
    CHECK(std::accumulate(waits.begin(), waits.end(), std::uint64_t{0}) == 1);
}

TEST_CASE("no_path_retry fail fails I/O at once when no path is usable") {
    auto s = LuFixture::fast_settings();
    s.no_path_retry = NoPathRetry::fail();
    LuFixture f(s);
    f.add("a");
    REQUIRE(f.wait_ready());
    REQUIRE(f.lu->fail_path("a"));
    auto c = f.submit(IoOp::read, 8192);
    REQUIRE(f.wait(c, Millis{200}));
    CHECK(c->result.status == IoStatus::no_path);
}

TEST_CASE("no_path_retry queue keeps I/O queued past any timeout until a path returns") {
    auto s = LuFixture::fast_settings();
    s.no_path_retry = NoPathRetry::queue();
    LuFixture f(s);
    f.add("a");
    REQUIRE(f.wait_ready());
    REQUIRE(f.lu->fail_path("a"));
    auto c = f.submit(IoOp::read, 8192);
    // Ten checker intervals and several ticks pass: still queued.
    CHECK_FALSE(f.wait(c, Millis{300}));
    CHECK(f.lu->status().queued == 1);
    REQUIRE(f.lu->reinstate_path("a"));
    REQUIRE(f.wait(c));
    CHECK(c->result.ok());
}

TEST_CASE("stopping the LU completes queued I/O as cancelled") {
    LuFixture f;
    f.add("a");
    REQUIRE(f.wait_ready());
    REQUIRE(f.lu->fail_path("a"));
    auto c = f.submit(IoOp::read, 8192);
    REQUIRE(f.run_until([&] { return f.lu->status().queued == 1; }));
    f.lu->stop();
    REQUIRE(f.wait(c));
    CHECK(c->result.status == IoStatus::cancelled);
}

TEST_CASE("draining waits for I/O in flight") {
    LuFixture f;
    auto a = f.add("a");
    REQUIRE(f.wait_ready());
    a->hold = true;
    auto c = f.submit(IoOp::write, 8192);
    REQUIRE(f.run_until([&] { return a->pending.size() == 1; }));
    bool drained = false;
    f.lu->async_drain([&] { drained = true; });
    f.io.restart();
    f.io.poll();
    CHECK_FALSE(drained);
    FakeTransport::release(f.io.get_executor(), *a);
    REQUIRE(f.run_until([&] { return drained; }));
    CHECK(c->done);
}
