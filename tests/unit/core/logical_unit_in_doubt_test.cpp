// In-doubt writes through the engine: a hung path's writes go elsewhere, its connection stays
// open, later writes over them are kept and written again when the hung write resolves (late
// reply, connection death), and nothing reaches a range while its replay runs.
#include <cerrno>

#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>

#include "tests/unit/core/lu_fixture.hpp"

using namespace mpiod;
using namespace mpiod::test;
using namespace std::chrono_literals;

namespace {

struct HungPath {
    LuFixture f;
    std::shared_ptr<FakePathControl> a;
    std::shared_ptr<FakePathControl> b;
    IoBuffer buffer_a;

    explicit HungPath(LuSettings s = settings()) : f(s) {
        a = f.add("a");
        b = f.add("b");
        REQUIRE(f.wait_ready());
    }
    static LuSettings settings() {
        auto s = LuFixture::fast_settings();
        s.policy = "first"; // a carries everything while it is up
        return s;
    }

    std::shared_ptr<Outcome> write(std::uint64_t offset, IoBuffer* data = nullptr) {
        IoRequest r;
        r.op = IoOp::write;
        r.offset = offset;
        r.length = 4096;
        r.data = make_io_buffer(4096);
        if (data != nullptr) {
            *data = r.data;
        }
        return f.submit_request(std::move(r));
    }

    /// Path a hangs with write A in flight; A completes through b after io_timeout.
    void hang_a_under_write() {
        a->hold = true;
        auto w = write(8192, &buffer_a);
        REQUIRE(f.wait(w));
        REQUIRE(w->result.ok());
        REQUIRE(f.state("a") == PathState::failed);
        REQUIRE(a->pending.size() == 1); // still on a's open connection
        REQUIRE(a->open);
    }

    /// The data buffers of the writes path b carried, in order.
    std::vector<IoBuffer> writes_on_b() const {
        std::vector<IoBuffer> out;
        for (const auto& r : b->submitted) {
            if (r.op == IoOp::write) {
                out.push_back(r.data);
            }
        }
        return out;
    }

    /// The hung attempt ends now, the way `result` says (a late reply or the connection's death).
    void resolve_a(IoResult result) {
        a->hold = false;
        FakeTransport::release(f.io.get_executor(), *a, result);
    }
};

} // namespace

TEST_CASE("a write hung on a path is in doubt: its connection stays open and it is reported") {
    HungPath h;
    const int closes = h.a->closes;
    h.hang_a_under_write();
    CHECK(h.a->closes == closes);
    auto s = h.f.lu->status();
    CHECK(s.in_doubt_writes == 1);
    CHECK(s.paths.at(0).in_doubt_writes == 1);
    CHECK(s.io_errors == 0);
    CHECK(h.writes_on_b() == std::vector<IoBuffer>{h.buffer_a}); // resubmitted on b
}

TEST_CASE("a later write over an in-doubt write is written again when the hung write lands") {
    HungPath h;
    h.hang_a_under_write();
    IoBuffer buffer_b;
    auto wb = h.write(8192, &buffer_b);
    REQUIRE(h.f.wait(wb));
    REQUIRE(wb->result.ok());
    auto fl = h.f.submit(IoOp::flush);
    h.f.run_for(5s);
    CHECK(h.f.lu->status().kept_writes == 2); // A's resubmission and B
    // A may still land over B: the flush cannot say B is durable yet, so it waits.
    CHECK_FALSE(fl->done);

    // The stopped server runs again: A lands (late), over B. The engine writes A then B again;
    // the flush follows them.
    h.resolve_a(IoResult::success());
    REQUIRE(h.f.run_until(
        [&] { return h.f.lu->status().replays == 2 && h.f.lu->status().in_flight == 0; }));
    auto on_b = h.writes_on_b();
    REQUIRE(on_b.size() == 4);
    CHECK(on_b[2] == h.buffer_a);
    CHECK(on_b[3] == buffer_b); // the last write to the block is B again
    REQUIRE(fl->done);
    CHECK(fl->result.ok());
    CHECK(h.b->submitted.back().op == IoOp::flush); // after the replays
    auto s = h.f.lu->status();
    CHECK(s.in_doubt_writes == 0);
    CHECK(s.kept_writes == 0);
    CHECK(s.io_errors == 0);
    // With nothing left in doubt, the path reconnects and comes back.
    CHECK(h.f.wait_state("a", PathState::active));
}

TEST_CASE("the connection's death resolves an in-doubt write too") {
    HungPath h;
    h.hang_a_under_write();
    IoBuffer buffer_b;
    REQUIRE(h.f.wait(h.write(8192, &buffer_b)));
    h.resolve_a(IoResult::path(ECONNRESET)); // the server was killed: it may have written A first
    REQUIRE(h.f.run_until(
        [&] { return h.f.lu->status().replays == 2 && h.f.lu->status().in_flight == 0; }));
    CHECK(h.writes_on_b().back() == buffer_b);
    CHECK(h.f.lu->status().in_doubt_writes == 0);
}

TEST_CASE("writes to other blocks are neither kept nor replayed") {
    HungPath h;
    h.hang_a_under_write();
    REQUIRE(h.f.wait(h.write(65536)));
    CHECK(h.f.lu->status().kept_writes == 1); // only A's own resubmission
    h.resolve_a(IoResult::success());
    REQUIRE(h.f.run_until(
        [&] { return h.f.lu->status().in_doubt_writes == 0 && h.f.lu->status().in_flight == 0; }));
    CHECK(h.f.lu->status().replays == 1);
}

TEST_CASE("a write that never resolves keeps its path out, says so, and refuses reinstatement") {
    HungPath h;
    h.hang_a_under_write();
    const int opens = h.a->opens;
    h.f.run_for(60s);
    CHECK(h.a->opens == opens); // no reconnect: that would lose sight of the hung write
    CHECK(h.f.state("a") == PathState::failed);
    auto p = h.f.lu->status().paths.at(0);
    CHECK(p.in_doubt_writes == 1);
    CHECK(p.in_doubt_age_ms >= 60'000);
    auto r = h.f.lu->reinstate_path("a");
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ControlError::Kind::busy);
}

TEST_CASE("I/O and flushes over a range wait while its replay runs; other ranges do not") {
    HungPath h;
    h.hang_a_under_write();
    REQUIRE(h.f.wait(h.write(8192)));
    h.b->hold = true; // the replays will sit on b until released
    h.resolve_a(IoResult::success());
    REQUIRE(h.f.run_until([&] { return h.b->pending.size() == 1; })); // the first replay
    auto same = h.f.submit(IoOp::read, 8192);
    auto other = h.f.submit(IoOp::read, 65536);
    auto fl = h.f.submit(IoOp::flush);
    REQUIRE(h.f.run_until([&] { return h.b->pending.size() == 2; })); // the other read only
    CHECK(h.f.lu->status().held == 2);
    CHECK_FALSE(same->done);
    h.b->hold = false;
    FakeTransport::release(h.f.io.get_executor(), *h.b);
    REQUIRE(h.f.wait(same));
    REQUIRE(h.f.wait(other));
    REQUIRE(h.f.wait(fl));
    CHECK(same->result.ok());
    CHECK(fl->result.ok());
    // The held read reached b after both replays.
    std::size_t last_write = 0;
    std::size_t read_at = 0;
    for (std::size_t i = 0; i < h.b->submitted.size(); ++i) {
        const auto& r = h.b->submitted[i];
        if (r.op == IoOp::write) {
            last_write = i;
        } else if (r.op == IoOp::read && r.offset == 8192) {
            read_at = i;
        }
    }
    CHECK(read_at > last_write);
}

TEST_CASE("past in_doubt_memory a write over an in-doubt range waits for the resolution") {
    auto s = HungPath::settings();
    s.in_doubt_memory = 8192; // A's resubmission and one more write
    HungPath h(s);
    h.hang_a_under_write();
    REQUIRE(h.f.wait(h.write(8192)));
    IoBuffer buffer_c;
    auto wc = h.write(8192, &buffer_c);
    h.f.run_for(1s);
    CHECK_FALSE(wc->done);
    CHECK(h.f.lu->status().held == 1);
    h.resolve_a(IoResult::success());
    REQUIRE(h.f.wait(wc));
    CHECK(wc->result.ok());
    CHECK(h.writes_on_b().back() == buffer_c); // C after the replays, never before
}

TEST_CASE("a path past io_timeout with only reads in flight is closed at once: nothing is in "
          "doubt") {
    HungPath h;
    h.a->hold = true;
    const int closes = h.a->closes;
    auto r = h.f.submit(IoOp::read, 8192);
    REQUIRE(h.f.wait(r));
    CHECK(r->result.ok());
    CHECK(h.a->closes > closes);
    CHECK(h.f.lu->status().in_doubt_writes == 0);
}

TEST_CASE("a path only suspected of hanging keeps its connection, with only reads in flight, "
          "until its server answers") {
    LuFixture f(LuFixture::hang_detection_settings(Millis{3000})); // rotating: b answers
    auto a = f.add("a");
    auto b = f.add("b");
    REQUIRE(f.wait_ready());
    a->hold = true; // a slow server (a flush behind a busy disk), not a dead one
    const int closes = a->closes;
    std::vector<std::shared_ptr<Outcome>> reads;
    for (int i = 0; i < 4; ++i) {
        reads.push_back(f.submit(IoOp::read, 8192 + 4096 * i));
    }
    for (auto& r : reads) {
        REQUIRE(f.wait(r));
        CHECK(r->result.ok());
    }
    REQUIRE(f.state("a") == PathState::failed);
    CHECK(f.lu->status().paths.at(0).counters.timeouts == 0); // suspected, not timed out
    REQUIRE_FALSE(a->pending.empty());
    f.run_for(1s); // well past suspect_after, within io_timeout: no hang-up
    CHECK(a->closes == closes);
    CHECK(a->open);
    const int opens = a->opens;
    a->hold = false;
    FakeTransport::release(f.io.get_executor(), *a, IoResult::success()); // the late replies
    REQUIRE(f.wait_state("a", PathState::active));
    CHECK(a->closes > closes); // closed once answered, then opened again
    CHECK(a->opens > opens);
    CHECK(f.lu->status().io_errors == 0);
}

TEST_CASE("a read sent again off a hung connection reads into a buffer of its own") {
    HungPath h;
    h.a->hold = true;
    IoRequest read;
    read.op = IoOp::read;
    read.offset = 16384;
    read.length = 4096;
    read.data = make_io_buffer(4096);
    const IoBuffer submitted = read.data;
    auto w = h.write(8192); // a write in flight keeps a's connection open
    auto r = h.f.submit_request(std::move(read));
    REQUIRE(h.f.wait(w));
    REQUIRE(h.f.wait(r));
    REQUIRE(r->result.ok());
    REQUIRE(h.a->open);
    // The abandoned attempt still owns the submitted buffer and may fill it late; the answer
    // came through b into another one, which the result hands over.
    bool still_on_a = false;
    for (const auto& p : h.a->pending) {
        still_on_a = still_on_a || (p.request.op == IoOp::read && p.request.data == submitted);
    }
    CHECK(still_on_a);
    REQUIRE(r->result.data);
    CHECK(r->result.data != submitted);
    bool read_on_b = false;
    for (const auto& q : h.b->submitted) {
        read_on_b =
            read_on_b || (q.op == IoOp::read && q.offset == 16384 && q.data == r->result.data);
    }
    CHECK(read_on_b);
}

TEST_CASE("a block status sent again off a hung connection answers in extents of its own") {
    TransportInfo info = disk_info();
    info.can_block_status = true;
    LuFixture f(HungPath::settings());
    auto a = f.add("a", false, info);
    auto b = f.add("b", false, info);
    REQUIRE(f.wait_ready());
    b->outcome = [](const IoRequest& r) {
        if (r.op == IoOp::block_status) {
            *r.extents = {{r.length, true, true}};
        }
        return IoResult::success();
    };
    a->hold = true;
    auto w = f.submit(IoOp::write, 8192); // a write in flight keeps a's connection open
    IoRequest query;
    query.op = IoOp::block_status;
    query.offset = 16384;
    query.length = 4096;
    query.extents = std::make_shared<BlockExtents>();
    const BlockExtentsPtr submitted = query.extents;
    auto q = f.submit_request(std::move(query));
    REQUIRE(f.wait(w));
    REQUIRE(f.wait(q));
    REQUIRE(q->result.ok());
    REQUIRE(a->open);
    REQUIRE(a->count(IoOp::block_status) == 1); // asked on a first, then abandoned there
    REQUIRE(q->result.extents);
    CHECK(q->result.extents != submitted); // a's late answer may still fill `submitted`
    CHECK(*q->result.extents == BlockExtents{{4096, true, true}});
}

TEST_CASE("a read that never left its path hands back the buffer it was given") {
    HungPath h;
    auto r = h.f.submit(IoOp::read, 16384);
    REQUIRE(h.f.wait(r));
    REQUIRE(r->result.ok());
    CHECK_FALSE(r->result.data);
}

TEST_CASE("an error reply fails a path; its other writes stay in doubt on the open connection") {
    HungPath h;
    h.a->hold = true;
    IoBuffer first;
    IoBuffer second;
    auto w1 = h.write(8192, &first);
    auto w2 = h.write(16384, &second);
    REQUIRE(h.f.run_until([&] { return h.a->pending.size() == 2; }));
    // The server answers the first write with an error and is still working on the second:
    // closing would not withdraw the second, which may land after a rewrite through b.
    auto failing = std::move(h.a->pending.front());
    h.a->pending.pop_front();
    boost::asio::post(h.f.io.get_executor(), [done = std::move(failing.done)]() mutable {
        std::move(done)(IoResult::path(EIO));
    });
    const int closes = h.a->closes;
    REQUIRE(h.f.wait(w1));
    REQUIRE(h.f.wait(w2));
    CHECK(w1->result.ok());
    CHECK(w2->result.ok());
    CHECK(h.f.state("a") == PathState::failed);
    CHECK(h.a->closes == closes);
    CHECK(h.a->open);
    CHECK(h.f.lu->status().in_doubt_writes == 1);
    // A later write over the second is kept and written again once the second resolves.
    IoBuffer third;
    REQUIRE(h.f.wait(h.write(16384, &third)));
    h.resolve_a(IoResult::success());
    REQUIRE(h.f.run_until(
        [&] { return h.f.lu->status().in_doubt_writes == 0 && h.f.lu->status().in_flight == 0; }));
    CHECK(h.writes_on_b().back() == third);
}

namespace {

/// Reads on a (held) while its server answers the first of them with an error.
struct ErrorReplyUnderReads {
    HungPath h;
    std::shared_ptr<Outcome> r1;
    std::shared_ptr<Outcome> r2;
    int closes = 0;
    Clock::time_point sent; // both reads are on a by then

    ErrorReplyUnderReads() {
        h.a->hold = true;
        r1 = h.f.submit(IoOp::read, 8192);
        r2 = h.f.submit(IoOp::read, 16384);
        REQUIRE(h.f.run_until([&] { return h.a->pending.size() == 2; }));
        sent = h.f.clock->now();
        closes = h.a->closes;
        auto failing = std::move(h.a->pending.front());
        h.a->pending.pop_front();
        boost::asio::post(h.f.io.get_executor(), [done = std::move(failing.done)]() mutable {
            std::move(done)(IoResult::path(EIO));
        });
        REQUIRE(h.f.wait(r1));
        REQUIRE(h.f.wait(r2));
    }
};

} // namespace

TEST_CASE("an error reply fails a path without hanging up on its server: the connection goes "
          "only after the server answered what was in flight") {
    ErrorReplyUnderReads e;
    auto& h = e.h;
    // Both reads answered through b at once, while a's server still works on the second.
    CHECK(e.r1->result.ok());
    CHECK(e.r2->result.ok());
    CHECK(h.f.state("a") == PathState::failed);
    CHECK(h.a->pending.size() == 1);
    CHECK(h.a->closes == e.closes); // a hard disconnect would cut the server off mid-reply
    CHECK(h.a->open);
    CHECK(h.f.lu->status().in_doubt_writes == 0); // a read is never in doubt
    CHECK(h.f.lu->status().io_errors == 0);
    h.f.run_for(100ms); // within io_timeout (200 ms): still waiting for the reply
    CHECK(h.a->closes == e.closes);
    const int opens = h.a->opens;
    h.resolve_a(IoResult::success());                // the late reply
    REQUIRE(h.f.wait_state("a", PathState::active)); // then it reconnects and comes back
    CHECK(h.a->closes > e.closes);
    CHECK(h.a->opens > opens);
}

TEST_CASE("reads left on a failed path's connection are waited for at most io_timeout") {
    ErrorReplyUnderReads e;
    auto& h = e.h;
    REQUIRE(h.a->open);
    auto reinstate = h.f.lu->reinstate_path("a");
    REQUIRE_FALSE(reinstate);
    CHECK(reinstate.error().kind == ControlError::Kind::busy);
    // The server answered one request and then nothing more: after io_timeout it counts as
    // not answering, and the connection is closed (nothing on it can land).
    REQUIRE(h.f.run_until([&] { return h.a->closes > e.closes; }));
    CHECK(h.f.clock->now() - e.sent >= 200ms); // io_timeout
    CHECK(h.f.clock->now() - e.sent < 1s);
    CHECK_FALSE(h.a->open);
    CHECK(h.a->pending.empty());
    h.a->hold = false;
    REQUIRE(h.f.wait_state("a", PathState::active));
    CHECK(h.f.lu->status().io_errors == 0);
}

TEST_CASE("a connection its peer ended is closed at once: nothing on it is in doubt") {
    HungPath h;
    h.a->hold = true;
    auto w = h.write(8192);
    REQUIRE(h.f.run_until([&] { return h.a->pending.size() == 1; }));
    h.a->lose_connection();
    REQUIRE(h.f.wait(w));
    CHECK(w->result.ok());
    REQUIRE(h.f.run_until([&] { return h.f.lu->status().in_flight == 0; }));
    auto s = h.f.lu->status();
    CHECK(s.in_doubt_writes == 0);
    CHECK(s.kept_writes == 0);
    CHECK(s.replays == 0); // nothing was held back to be written again
    CHECK_FALSE(h.a->open);
}

TEST_CASE("a flush waiting for an in-doubt write fails with EIO after in_doubt_flush_timeout") {
    auto settings = HungPath::settings();
    settings.in_doubt_flush_timeout = 2s;
    HungPath h(settings);
    h.hang_a_under_write();
    IoBuffer buffer_b;
    REQUIRE(h.f.wait(h.write(8192, &buffer_b)));
    auto fl = h.f.submit(IoOp::flush);
    h.f.run_for(1500ms);
    CHECK_FALSE(fl->done);
    REQUIRE(h.f.wait(fl));
    CHECK_FALSE(fl->result.ok());
    CHECK(to_errno(fl->result) == EIO);
    CHECK(h.f.lu->status().held == 0);
    // The data stays safe: when A lands, B is written again over it.
    h.resolve_a(IoResult::success());
    REQUIRE(h.f.run_until([&] { return h.f.lu->status().replays == 2; }));
    REQUIRE(h.f.run_until([&] { return h.f.lu->status().in_flight == 0; }));
    CHECK(h.writes_on_b().back() == buffer_b);
    // With nothing in doubt, a flush goes through at once again.
    auto again = h.f.submit(IoOp::flush);
    REQUIRE(h.f.wait(again));
    CHECK(again->result.ok());
}

TEST_CASE("a flush does not wait for an in-doubt write that no later write lies over") {
    HungPath h;
    h.hang_a_under_write();
    REQUIRE(h.f.wait(h.write(65536))); // another block
    auto fl = h.f.submit(IoOp::flush);
    REQUIRE(h.f.wait(fl)); // A landing late writes what was acknowledged: nothing to undo
    CHECK(fl->result.ok());
    CHECK(h.f.lu->status().in_doubt_writes == 1);
}

TEST_CASE("with in_doubt_flush_timeout 0 a flush does not wait for in-doubt writes") {
    auto settings = HungPath::settings();
    settings.in_doubt_flush_timeout = 0s;
    HungPath h(settings);
    h.hang_a_under_write();
    REQUIRE(h.f.wait(h.write(8192)));
    auto fl = h.f.submit(IoOp::flush);
    REQUIRE(h.f.wait(fl));
    CHECK(fl->result.ok());
    CHECK(h.f.lu->status().in_doubt_writes == 1);
}

TEST_CASE("a kept write that fails on its path after the resolution under it is sent again, "
          "not held behind its own replay") {
    LuFixture f(HungPath::settings());
    auto a = f.add("a");
    auto b = f.add("b");
    auto c = f.add("c");
    REQUIRE(f.wait_ready());
    auto write = [&](IoBuffer& data) {
        IoRequest r;
        r.op = IoOp::write;
        r.offset = 8192;
        r.length = 4096;
        r.data = make_io_buffer(4096);
        data = r.data;
        return f.submit_request(std::move(r));
    };
    // A hangs on a and completes through b: in doubt.
    a->hold = true;
    IoBuffer buffer_a;
    auto wa = write(buffer_a);
    REQUIRE(f.wait(wa));
    REQUIRE(f.lu->status().in_doubt_writes == 1);
    // B over it is kept and sits on b.
    b->hold = true;
    IoBuffer buffer_b;
    auto wb = write(buffer_b);
    REQUIRE(f.run_until([&] { return b->pending.size() == 1; }));
    // A resolves: B is due for replay, but B's own client write is not done yet. Then b
    // fails it (a path error): B goes again, to c.
    a->hold = false;
    FakeTransport::release(f.io.get_executor(), *a, IoResult::success());
    REQUIRE(f.run_until([&] { return f.lu->status().in_doubt_writes == 0; }));
    b->hold = false;
    FakeTransport::release(f.io.get_executor(), *b, IoResult::path(EIO));
    REQUIRE(f.wait(wb));
    CHECK(wb->result.ok());
    REQUIRE(f.run_until([&] {
        auto s = f.lu->status();
        return s.kept_writes == 0 && s.held == 0 && s.in_flight == 0;
    }));
    // c carries everything after b failed: the last write to the block is B's.
    const IoRequest* last = nullptr;
    for (const auto& r : c->submitted) {
        if (r.op == IoOp::write) {
            last = &r;
        }
    }
    REQUIRE(last != nullptr);
    CHECK(last->data == buffer_b);
    CHECK(f.lu->status().io_errors == 0);
}
