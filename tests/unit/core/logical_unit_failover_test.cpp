// Engine behaviour when a path fails under I/O: resubmission, target errors, deadlines.
#include <cerrno>

#include <catch2/catch.hpp>

#include "tests/unit/core/lu_fixture.hpp"

using namespace mpiod;
using namespace mpiod::test;

TEST_CASE("an I/O failing with a path error is resubmitted on another path and succeeds") {
    LuFixture f;
    auto a = f.add("a");
    auto b = f.add("b");
    REQUIRE(f.wait_ready());
    a->outcome = [](const IoRequest&) { return IoResult::path(EIO); };

    std::vector<std::shared_ptr<Outcome>> done;
    for (int i = 0; i < 8; ++i) {
        done.push_back(f.submit(IoOp::write, 8192 + 4096 * i));
    }
    for (auto& c : done) {
        REQUIRE(f.wait(c));
        CHECK(c->result.ok());
    }
    CHECK(f.state("a") == PathState::failed);
    CHECK(f.state("b") == PathState::active);
    CHECK(f.lu->status().failovers >= 1);
    CHECK(f.lu->status().io_errors == 0);
}

TEST_CASE("a target error goes back to the client and leaves the path up") {
    LuFixture f;
    auto a = f.add("a");
    REQUIRE(f.wait_ready());
    a->outcome = [](const IoRequest& r) {
        return r.op == IoOp::write ? IoResult::target(ENOSPC) : IoResult::success();
    };
    auto c = f.submit(IoOp::write, 8192);
    REQUIRE(f.wait(c));
    CHECK(c->result.status == IoStatus::target_error);
    CHECK(c->result.error == ENOSPC);
    CHECK(f.state("a") == PathState::active);
    CHECK(f.data_ios("a", IoOp::write) == 1); // not retried anywhere
}

TEST_CASE("an I/O past its deadline fails the path and completes on another path") {
    auto s = LuFixture::fast_settings();
    s.policy = "first";
    s.io_timeout = Millis{100};
    LuFixture f(s);
    auto a = f.add("a");
    auto b = f.add("b");
    REQUIRE(f.wait_ready());
    a->hold = true; // path a swallows I/O: a hung target

    auto start = f.clock->now();
    auto c = f.submit(IoOp::read, 8192);
    REQUIRE(f.wait(c));
    auto elapsed = f.clock->now() - start;
    CHECK(c->result.ok());
    CHECK(elapsed >= Millis{100});
    CHECK(elapsed <= Millis{110}); // found at the first tick (5 ms) past the deadline
    CHECK(f.state("a") != PathState::active);
    CHECK(f.lu->status().paths[0].counters.timeouts == 1);
    CHECK(f.data_ios("b", IoOp::read) == 1);
}

TEST_CASE(
    "all I/O in flight on a dying path is resubmitted and none reaches the client as an error") {
    LuFixture f;
    auto a = f.add("a");
    auto b = f.add("b");
    REQUIRE(f.wait_ready());
    a->hold = true;
    b->hold = true;
    std::vector<std::shared_ptr<Outcome>> done;
    for (int i = 0; i < 32; ++i) {
        done.push_back(f.submit(i % 2 ? IoOp::write : IoOp::read, 8192 + 4096 * i));
    }
    REQUIRE(f.run_until([&] { return a->pending.size() + b->pending.size() == 32; }));
    b->hold = false;
    FakeTransport::release(f.io.get_executor(), *a, IoResult::path(ECONNRESET));
    FakeTransport::release(f.io.get_executor(), *b);
    for (auto& c : done) {
        REQUIRE(f.wait(c));
        CHECK(c->result.ok());
    }
    CHECK(f.state("a") == PathState::failed);
    CHECK(f.lu->status().io_errors == 0);
}

TEST_CASE("a flush goes to every path that completed writes since the last flush") {
    LuFixture f;
    auto a = f.add("a");
    auto b = f.add("b");
    auto c = f.add("c");
    REQUIRE(f.wait_ready());
    // The rotating selector puts the two writes on two different paths.
    auto w1 = f.submit(IoOp::write, 8192);
    auto w2 = f.submit(IoOp::write, 12288);
    REQUIRE(f.wait(w1));
    REQUIRE(f.wait(w2));
    int written = (f.data_ios("a", IoOp::write) > 0) + (f.data_ios("b", IoOp::write) > 0) +
                  (f.data_ios("c", IoOp::write) > 0);
    REQUIRE(written == 2);

    auto fl = f.submit(IoOp::flush);
    REQUIRE(f.wait(fl));
    CHECK(fl->result.ok());
    for (const auto& [id, ctl] : f.paths) {
        CHECK(ctl->count(IoOp::flush) == (f.data_ios(id, IoOp::write) > 0 ? 1 : 0));
    }
    // Nothing written since: the next flush goes to one path only.
    auto fl2 = f.submit(IoOp::flush);
    REQUIRE(f.wait(fl2));
    CHECK(a->count(IoOp::flush) + b->count(IoOp::flush) + c->count(IoOp::flush) == 3);
}

TEST_CASE("a flush leg on a failing path is retried on another path") {
    auto s = LuFixture::fast_settings();
    s.policy = "first";
    LuFixture f(s);
    auto a = f.add("a");
    auto b = f.add("b");
    REQUIRE(f.wait_ready());
    auto w = f.submit(IoOp::write, 8192);
    REQUIRE(f.wait(w));
    REQUIRE(f.data_ios("a", IoOp::write) == 1);
    a->outcome = [](const IoRequest& r) {
        return r.op == IoOp::flush ? IoResult::path(EPIPE) : IoResult::success();
    };
    auto fl = f.submit(IoOp::flush);
    REQUIRE(f.wait(fl));
    CHECK(fl->result.ok());
    CHECK(b->count(IoOp::flush) == 1);
}

TEST_CASE("a FUA write does not make its path dirty") {
    LuFixture f;
    auto a = f.add("a");
    REQUIRE(f.wait_ready());
    auto w = f.submit(IoOp::write, 8192, 4096, true);
    REQUIRE(f.wait(w));
    auto fl = f.submit(IoOp::flush);
    REQUIRE(f.wait(fl));
    CHECK(a->count(IoOp::flush) == 1); // the one-path flush, not a dirty fan-out
    CHECK(a->submitted[a->submitted.size() - 2].fua);
}

TEST_CASE("a transport reporting its connection lost fails the idle path before any check") {
    auto s = LuFixture::fast_settings();
    s.checker_interval = Millis{60000}; // only the report can explain a failed path
    LuFixture f(s);
    auto a = f.add("a");
    auto b = f.add("b");
    REQUIRE(f.wait_ready());
    a->lose_connection();
    CHECK(f.state("a") == PathState::failed); // at once, from inside the report
    CHECK(f.state("b") == PathState::active);

    auto w = f.submit(IoOp::write, 8192);
    REQUIRE(f.wait(w));
    CHECK(w->result.ok());
    CHECK(f.data_ios("a", IoOp::write) == 0);
}

TEST_CASE("a path that stops answering while another answers is failed long before io_timeout") {
    auto s = LuFixture::hang_detection_settings(Millis{10000});
    s.checker_interval = Millis{2000};
    LuFixture f(s);
    auto a = f.add("a");
    auto b = f.add("b");
    REQUIRE(f.wait_ready());
    a->hold = true; // a hangs; b answers (the rotating policy sends it half the I/O)
    const auto start = f.clock->now();
    std::vector<std::shared_ptr<Outcome>> done;
    for (int i = 0; i < 8; ++i) {
        done.push_back(f.submit(IoOp::read, 8192 + 4096 * i));
    }
    for (auto& c : done) {
        REQUIRE(f.wait(c));
        CHECK(c->result.ok());
    }
    const auto took = f.clock->now() - start;
    CHECK(took >= Millis{250});
    CHECK(took <= Millis{250} + Millis{250}); // found within a tick (at most 250 ms here)
    CHECK(f.state("a") == PathState::failed);
    CHECK(f.lu->status().paths.at(0).counters.timeouts == 0); // not the io_timeout
}

TEST_CASE("a path that answers reads while its flush takes long is slow, not hung: it stays "
          "in use until io_timeout") {
    auto s = LuFixture::hang_detection_settings(Millis{3000});
    s.policy = "first"; // a carries everything; b answers its idle checks
    LuFixture f(s);
    auto a = f.add("a");
    auto b = f.add("b");
    REQUIRE(f.wait_ready());
    auto w = f.submit(IoOp::write, 8192); // a holds unflushed data
    REQUIRE(f.wait(w));
    a->hold = true;
    auto flush = f.submit(IoOp::flush);
    f.run_for(Millis{10});
    REQUIRE(a->pending.size() == 1); // the flush, on a, for as long as a's disk takes
    a->hold = false;
    const auto start = f.clock->now();
    while (f.clock->now() - start < Millis{1500}) { // six times suspect_after
        auto r = f.submit(IoOp::read, 16384);
        REQUIRE(f.wait(r));
        CHECK(r->result.ok());
        f.run_for(Millis{100});
    }
    CHECK(f.state("a") == PathState::active);
    CHECK_FALSE(flush->done);
    CHECK(f.data_ios("b", IoOp::read) == 0); // every read went to a: it was never failed
    FakeTransport::release(f.io.get_executor(), *a);
    REQUIRE(f.wait(flush));
    CHECK(flush->result.ok());
    CHECK(f.lu->status().failovers == 0);
}

TEST_CASE("with the other path idle, a probe of it confirms the hang") {
    auto s = LuFixture::hang_detection_settings(Millis{10000});
    s.policy = "first";                 // b carries nothing while a is up
    s.checker_interval = Millis{60000}; // no idle check would come in time by itself
    LuFixture f(s);
    auto a = f.add("a");
    auto b = f.add("b");
    REQUIRE(f.wait_ready());
    a->hold = true;
    const auto start = f.clock->now();
    auto c = f.submit(IoOp::write, 8192);
    REQUIRE(f.wait(c));
    CHECK(c->result.ok());
    CHECK(f.clock->now() - start < Millis{1000});
    CHECK(f.state("a") == PathState::failed);
    CHECK(f.data_ios("b", IoOp::write) == 1);
}

TEST_CASE("when no other path answers either, only io_timeout fails a path") {
    LuFixture f(LuFixture::hang_detection_settings(Millis{3000}));
    auto a = f.add("a");
    REQUIRE(f.wait_ready());
    a->hold = true; // the only path: a slow LU, not a hung path among live ones
    const auto start = f.clock->now();
    auto c = f.submit(IoOp::read, 8192);
    REQUIRE(f.wait_state("a", PathState::failed, Millis{10000}));
    CHECK(f.clock->now() - start >= Millis{3000});
    a->hold = false;
    REQUIRE(f.wait(c, Millis{10000}));
}
