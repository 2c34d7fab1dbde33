// The in-doubt bookkeeping on its own: ranges, kept writes, replay order, the memory bound.
#include <catch2/catch.hpp>

#include "core/in_doubt_writes.hpp"

using namespace mpiod;

namespace {

const Clock::time_point t0{std::chrono::hours(1)};

IoRequest write_at(std::uint64_t offset, std::uint32_t length = 4096) {
    IoRequest r;
    r.op = IoOp::write;
    r.offset = offset;
    r.length = length;
    r.data = make_io_buffer(length);
    return r;
}

} // namespace

TEST_CASE("overlap is by byte range, partial overlaps included") {
    InDoubtWrites d(1 << 20);
    d.open(0, 8192, 4096, t0);
    CHECK(d.overlaps_open(8192, 4096));
    CHECK(d.overlaps_open(4096, 4097));        // its last byte
    CHECK(d.overlaps_open(12287, 1));          // the attempt's last byte
    CHECK_FALSE(d.overlaps_open(4096, 4096));  // ends where it starts
    CHECK_FALSE(d.overlaps_open(12288, 4096)); // starts where it ends
}

TEST_CASE("a resolved attempt replays the acked writes kept over it, in their order") {
    InDoubtWrites d(1 << 20);
    auto id = d.open(0, 0, 16384, t0);
    auto w1 = write_at(4096);
    auto w2 = write_at(8192, 8192);
    auto w3 = write_at(4096); // overwrites w1: must replay after it
    auto s1 = d.keep(w1);
    auto s2 = d.keep(w2);
    auto s3 = d.keep(w3);
    REQUIRE((s1 && s2 && s3));
    d.settle(*s1, true);
    d.settle(*s2, false); // failed to the client: nothing to restore
    d.settle(*s3, true);
    CHECK_FALSE(d.take_replay()); // nothing resolved yet
    CHECK(d.kept_writes() == 2);

    d.resolve(id);
    CHECK(d.blocks(4096, 1));
    CHECK_FALSE(d.blocks(16384, 4096));
    auto r1 = d.take_replay();
    REQUIRE(r1);
    CHECK(r1->data == w1.data);
    CHECK_FALSE(d.take_replay()); // one at a time
    d.replay_done(true);
    auto r2 = d.take_replay();
    REQUIRE(r2);
    CHECK(r2->data == w3.data);
    d.replay_done(true);
    CHECK(d.idle());
    CHECK_FALSE(d.blocks(4096, 1));
    CHECK(d.kept_writes() == 0); // no open attempt under them any more: released
    CHECK(d.kept_bytes() == 0);
    CHECK(d.replays() == 2);
}

TEST_CASE("a kept write still in flight at the resolution is replayed once it completes") {
    InDoubtWrites d(1 << 20);
    auto id = d.open(0, 0, 4096, t0);
    auto seq = d.keep(write_at(0));
    REQUIRE(seq);
    d.resolve(id);
    CHECK_FALSE(d.take_replay()); // its order against the stale write is not known yet
    CHECK(d.blocks(0, 4096));
    d.settle(*seq, true);
    CHECK(d.take_replay());
}

TEST_CASE("a kept write sent again waits only for the replays of older kept writes") {
    InDoubtWrites d(1 << 20);
    auto id = d.open(0, 0, 4096, t0);
    auto s1 = d.keep(write_at(0));
    auto s2 = d.keep(write_at(0));
    auto s3 = d.keep(write_at(0));
    REQUIRE((s1 && s2 && s3));
    d.settle(*s3, true);
    d.resolve(id);            // all three due; s1 and s2 are still in flight to the client
    CHECK(d.blocks(0, 4096)); // new I/O waits for every replay
    CHECK_FALSE(d.blocks(0, 4096, *s1)); // s1 sent again: nothing older is due
    CHECK(d.blocks(0, 4096, *s2));       // s2 sent again: s1's replay comes first
    CHECK_FALSE(d.take_replay());        // s1 not done yet: its order is not known
    d.settle(*s1, true);
    auto r1 = d.take_replay();
    REQUIRE(r1);
    CHECK(d.blocks(0, 4096, *s2)); // while s1's replay runs
    d.replay_done(true);
    CHECK_FALSE(d.blocks(0, 4096, *s2)); // s1 done: s2 may go, before its own replay
    CHECK_FALSE(d.take_replay());        // s2 not done yet
    d.settle(*s2, true);
    CHECK(d.take_replay());
}

TEST_CASE("a kept write over two attempts stays until both resolved") {
    InDoubtWrites d(1 << 20);
    auto a = d.open(0, 0, 4096, t0);
    auto b = d.open(1, 2048, 4096, t0);
    auto seq = d.keep(write_at(0, 8192));
    REQUIRE(seq);
    d.settle(*seq, true);
    d.resolve(a);
    REQUIRE(d.take_replay());
    d.replay_done(true);
    CHECK(d.kept_writes() == 1); // b may still land over it
    d.resolve(b);
    REQUIRE(d.take_replay());
    d.replay_done(true);
    CHECK(d.kept_writes() == 0);
}

TEST_CASE("a failed replay is due again, first in line") {
    InDoubtWrites d(1 << 20);
    auto id = d.open(0, 0, 4096, t0);
    auto seq = d.keep(write_at(0));
    d.settle(*seq, true);
    d.resolve(id);
    REQUIRE(d.take_replay());
    d.replay_done(false);
    CHECK_FALSE(d.idle());
    CHECK(d.take_replay());
}

TEST_CASE("past the memory bound a write is not kept (the engine holds it)") {
    InDoubtWrites d(8192);
    auto id = d.open(0, 0, 1 << 20, t0);
    auto s1 = d.keep(write_at(0, 8192));
    REQUIRE(s1);
    CHECK_FALSE(d.keep(write_at(8192)));
    d.settle(*s1, true);
    d.resolve(id);
    REQUIRE(d.take_replay());
    d.replay_done(true);
    CHECK(d.kept_bytes() == 0);
    CHECK(d.keep(write_at(8192))); // room again
}

TEST_CASE("the operator sees each path's in-doubt count and the oldest") {
    InDoubtWrites d(1 << 20);
    d.open(3, 0, 4096, t0 + std::chrono::seconds(2));
    d.open(3, 8192, 4096, t0);
    d.open(4, 0, 4096, t0);
    auto p3 = d.of_path(3);
    CHECK(p3.writes == 2);
    CHECK(p3.oldest == t0);
    CHECK(d.of_path(5).writes == 0);
    CHECK(d.open_count() == 3);
}

TEST_CASE("open_under_kept: only while an open attempt has a kept write over it") {
    InDoubtWrites d(1 << 20);
    CHECK_FALSE(d.open_under_kept());
    auto id = d.open(0, 8192, 4096, t0);
    CHECK_FALSE(d.open_under_kept());     // in doubt, but nothing later to undo
    auto w = write_at(8192 + 2048, 4096); // partly over it
    auto seq = d.keep(w);
    REQUIRE(seq);
    CHECK(d.open_under_kept());
    d.settle(*seq, true);
    CHECK(d.open_under_kept());
    d.resolve(id);
    CHECK_FALSE(d.open_under_kept()); // resolved: the replay restores the write
}

TEST_CASE("open_under_kept ignores the attempt's own copy sent again, not a later write") {
    InDoubtWrites d(1 << 20);
    auto attempt = write_at(8192);
    d.open(0, attempt.offset, attempt.length, t0, &attempt);
    auto copy = attempt; // shares the buffer, as the engine's resubmission does
    REQUIRE(d.keep(copy));
    CHECK_FALSE(d.open_under_kept());
    REQUIRE(d.keep(write_at(8192))); // same range, other data
    CHECK(d.open_under_kept());
}
