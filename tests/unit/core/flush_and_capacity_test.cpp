// Flush fan-out planning and the capacity agreement rule, on plain Path objects.
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "core/capacity_rescan.hpp"
#include "core/flush_fan_out.hpp"
#include "tests/support/fake_transport.hpp"

using namespace mpiod;
using namespace mpiod::test;

namespace {

struct Paths {
    boost::asio::io_context io;
    LuIdentity lu{"lu0", "wwid-1"};
    std::vector<std::unique_ptr<Path>> all;

    Path& add(const std::string& id, PathState state) {
        PathSpec s;
        s.id = id;
        s.transport = std::make_unique<FakeTransport>(io.get_executor(),
                                                      std::make_shared<FakePathControl>(), id);
        all.push_back(std::make_unique<Path>(static_cast<PathId>(all.size()), std::move(s), lu));
        all.back()->transition(state, {"test"});
        return *all.back();
    }
};

} // namespace

TEST_CASE("a flush plans one leg per usable path with writes") {
    Paths p;
    auto& a = p.add("a", PathState::active);
    auto& b = p.add("b", PathState::active);
    p.add("c", PathState::active);
    a.dirty = b.dirty = true;
    auto plan = plan_flush(p.all);
    CHECK(plan.targets == std::vector<Path*>{&a, &b});
    CHECK_FALSE(plan.needs_live_path);
}

TEST_CASE("writes on a dead path, or no writes at all, need a flush on a live path") {
    Paths p;
    auto& a = p.add("a", PathState::failed);
    auto& b = p.add("b", PathState::active);
    a.dirty = true;
    auto plan = plan_flush(p.all);
    CHECK(plan.targets.empty());
    CHECK(plan.needs_live_path);

    a.dirty = false;
    CHECK(plan_flush(p.all).needs_live_path); // nothing written: still one path

    // Starting it on the live path clears every mark it covers, the dead path's too.
    a.dirty = true;
    EngineIo flush;
    std::vector<Path*> started;
    start_flush(flush, plan_flush(p.all), &b, p.all, [&](EngineIo& leg, Path& target) {
        started.push_back(&target);
        CHECK(finish_leg(leg, IoResult::success()) == &flush);
    });
    CHECK(started == std::vector<Path*>{&b});
    CHECK_FALSE(a.dirty);
    CHECK(flush.legs_result.ok());
}

TEST_CASE("a client flush completes with its last leg and the first leg error") {
    Paths p;
    auto& a = p.add("a", PathState::active);
    auto& b = p.add("b", PathState::active);
    a.dirty = b.dirty = true;
    EngineIo flush;
    std::vector<EngineIo*> legs;
    start_flush(flush, plan_flush(p.all), nullptr, p.all,
                [&](EngineIo& leg, Path&) { legs.push_back(&leg); });
    REQUIRE(legs.size() == 2);
    CHECK_FALSE(a.dirty);
    CHECK_FALSE(b.dirty);
    CHECK(finish_leg(*legs[0], IoResult::path(EIO)) == nullptr);
    CHECK(finish_leg(*legs[1], IoResult::success()) == &flush);
    CHECK(flush.legs_result.status == IoStatus::path_error);
}

TEST_CASE("the lu grows only when every usable path reports the same larger size") {
    Paths p;
    auto& a = p.add("a", PathState::active);
    auto& b = p.add("b", PathState::standby);
    auto& c = p.add("c", PathState::failed);
    a.reported_size = b.reported_size = 2 << 20;
    c.reported_size = 1 << 20; // not usable: not asked
    auto v = judge_capacity(p.all, 1 << 20);
    CHECK(v.kind == CapacityVerdict::Kind::grows);
    CHECK(v.size == 2u << 20);
    CHECK(v.sizes == "a 2097152, b 2097152");

    CHECK(judge_capacity(p.all, 2 << 20).kind == CapacityVerdict::Kind::unchanged);

    b.reported_size = 3 << 20;
    CHECK(judge_capacity(p.all, 1 << 20).kind == CapacityVerdict::Kind::disagree);

    a.transition(PathState::failed, {"test"});
    b.transition(PathState::failed, {"test"});
    CHECK(judge_capacity(p.all, 1 << 20).kind == CapacityVerdict::Kind::no_path);
}
