// Block status and cache in the engine: they travel like reads (policy, resubmission), the
// path's answer is clipped and merged, and a path that cannot answer is never asked.
#include <cerrno>

#include <catch2/catch.hpp>

#include "tests/unit/core/lu_fixture.hpp"

using namespace mpiod;
using namespace mpiod::test;

namespace {

TransportInfo with_block_status(bool block_status, bool cache = false) {
    TransportInfo t = disk_info();
    t.can_block_status = block_status;
    t.can_cache = cache;
    return t;
}

struct StatusOutcome {
    std::shared_ptr<Outcome> done;
    BlockExtentsPtr extents = std::make_shared<BlockExtents>();
    /// The answer: in the list submitted, or in one of its own when the engine sent the
    /// request again after abandoning an attempt (IoResult::extents).
    const BlockExtents& answer() const {
        return done->result.extents ? *done->result.extents : *extents;
    }
};

StatusOutcome block_status(LuFixture& f, std::uint64_t offset, std::uint32_t length) {
    StatusOutcome s;
    IoRequest r;
    r.op = IoOp::block_status;
    r.offset = offset;
    r.length = length;
    r.extents = s.extents;
    s.done = f.submit_request(std::move(r));
    return s;
}

/// A path answer: 4 KiB hole, 4 KiB hole, 4 KiB data, then 64 KiB of hole (past any request).
IoResult answer_pieces(const IoRequest& r) {
    if (r.op == IoOp::block_status) {
        *r.extents = {{4096, true, true},
                      {4096, true, true},
                      {4096, false, false},
                      {0, false, false},
                      {65536, true, false}};
    }
    return IoResult::success();
}

} // namespace

TEST_CASE("a path without block status is not asked: the engine answers all data") {
    LuFixture f;
    auto a = f.add("a", false, with_block_status(false));
    REQUIRE(f.wait_ready());
    auto s = block_status(f, 8192, 65536);
    REQUIRE(f.wait(s.done));
    CHECK(s.done->result.ok());
    CHECK(s.answer() == BlockExtents{{65536, false, false}});
    CHECK(a->count(IoOp::block_status) == 0);
}

TEST_CASE("a path's block status answer is merged and clipped to the request") {
    LuFixture f;
    auto a = f.add("a", false, with_block_status(true));
    a->outcome = answer_pieces;
    REQUIRE(f.wait_ready());
    auto s = block_status(f, 8192, 16384);
    REQUIRE(f.wait(s.done));
    CHECK(s.done->result.ok());
    CHECK(s.answer() ==
          BlockExtents{{8192, true, true}, {4096, false, false}, {4096, true, false}});
    REQUIRE(a->count(IoOp::block_status) == 1);
    CHECK(a->submitted.back().offset == 8192);
    CHECK(a->submitted.back().length == 16384);
}

TEST_CASE("block status failing with a path error is resubmitted on another path") {
    LuFixture f;
    auto a = f.add("a", false, with_block_status(true));
    auto b = f.add("b", false, with_block_status(true));
    REQUIRE(f.wait_ready());
    a->outcome = [](const IoRequest& r) {
        return r.op == IoOp::block_status ? IoResult::path(EIO) : IoResult::success();
    };
    b->outcome = answer_pieces;
    std::vector<StatusOutcome> all;
    for (int i = 0; i < 4; ++i) {
        all.push_back(block_status(f, 8192, 4096));
    }
    for (auto& s : all) {
        REQUIRE(f.wait(s.done));
        CHECK(s.done->result.ok());
        CHECK(s.answer() == BlockExtents{{4096, true, true}});
    }
    CHECK(f.state("a") == PathState::failed);
    CHECK(f.lu->status().io_errors == 0);
}

TEST_CASE("a target error on block status goes back as it is; it is not a write in doubt") {
    LuFixture f;
    auto a = f.add("a", false, with_block_status(true));
    REQUIRE(f.wait_ready());
    a->outcome = [](const IoRequest&) { return IoResult::target(EINVAL); };
    auto s = block_status(f, 8192, 4096);
    REQUIRE(f.wait(s.done));
    CHECK(s.done->result.status == IoStatus::target_error);
    CHECK(s.done->result.error == EINVAL);
    CHECK(f.state("a") == PathState::active);
    CHECK(f.lu->status().in_doubt_writes == 0);
}

TEST_CASE("cache goes to a path that offers it and is done at once on one that does not") {
    LuFixture f;
    SECTION("offered") {
        auto a = f.add("a", false, with_block_status(false, true));
        REQUIRE(f.wait_ready());
        auto c = f.submit(IoOp::cache, 8192, 65536);
        REQUIRE(f.wait(c));
        CHECK(c->result.ok());
        CHECK(a->count(IoOp::cache) == 1);
    }
    SECTION("not offered") {
        auto a = f.add("a", false, with_block_status(false, false));
        REQUIRE(f.wait_ready());
        auto c = f.submit(IoOp::cache, 8192, 65536);
        REQUIRE(f.wait(c));
        CHECK(c->result.ok());
        CHECK(a->count(IoOp::cache) == 0);
    }
}
