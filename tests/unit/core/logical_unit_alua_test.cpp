// ALUA access states in the engine: optimized paths first, non-optimized only when no
// optimized path is left, standby/unavailable/transitioning paths never, and state changes
// reported by a transport after open take effect at once.
#include <catch2/catch.hpp>

#include "tests/unit/core/lu_fixture.hpp"

using namespace mpiod;
using namespace mpiod::test;

namespace {

TransportInfo with_access(PathAccess access, std::string detail = {}) {
    auto info = disk_info();
    info.access = access;
    info.access_detail = std::move(detail);
    return info;
}

std::string access_of(LuFixture& f, const std::string& id) {
    for (const auto& p : f.lu->status().paths) {
        if (p.id == id) {
            return p.access;
        }
    }
    return "?";
}

} // namespace

TEST_CASE("non-optimized paths carry I/O only while no optimized path is usable", "[alua]") {
    LuFixture f;
    f.add("opt1", false, with_access(PathAccess::optimized, "tpg 1"));
    f.add("opt2", false, with_access(PathAccess::optimized, "tpg 1"));
    f.add("nonopt", false, with_access(PathAccess::non_optimized, "tpg 2"));
    REQUIRE(f.wait_ready());
    auto burst = [&] {
        for (int i = 0; i < 8; ++i) {
            REQUIRE(f.wait(f.submit(IoOp::write, 8192 + 4096 * i)));
        }
    };
    burst();
    CHECK(f.data_ios("nonopt", IoOp::write) == 0);
    CHECK(f.data_ios("opt1", IoOp::write) + f.data_ios("opt2", IoOp::write) == 8);

    REQUIRE(f.lu->fail_path("opt1"));
    REQUIRE(f.lu->fail_path("opt2"));
    burst();
    CHECK(f.data_ios("nonopt", IoOp::write) == 8);

    REQUIRE(f.lu->reinstate_path("opt2"));
    REQUIRE(f.wait_state("opt2", PathState::active));
    burst();
    CHECK(f.data_ios("nonopt", IoOp::write) == 8); // back to the optimized path at once
    CHECK(f.data_ios("opt2", IoOp::write) >= 8);
}

TEST_CASE("ALUA standby and unavailable paths never carry I/O; I/O queues instead", "[alua]") {
    LuFixture f;
    f.add("opt", false, with_access(PathAccess::optimized));
    f.add("sb", false, with_access(PathAccess::standby));
    f.add("un", false, with_access(PathAccess::unavailable));
    REQUIRE(f.wait_ready());
    CHECK(f.state("sb") == PathState::active); // healthy: the checker keeps probing it
    CHECK(access_of(f, "sb") == "standby");
    REQUIRE(f.lu->fail_path("opt"));
    auto queued = f.submit(IoOp::write, 8192);
    REQUIRE(f.run_until([&] { return f.lu->status().queued == 1; }));
    CHECK_FALSE(queued->done);
    CHECK(f.data_ios("sb", IoOp::write) == 0);
    CHECK(f.data_ios("un", IoOp::write) == 0);

    // The target moves the standby port group to active/optimized (sense 2A/06 + RTPG).
    f.paths.at("sb")->report_access(PathAccess::optimized);
    REQUIRE(f.wait(queued));
    CHECK(queued->result.ok());
    CHECK(f.data_ios("sb", IoOp::write) == 1);
    CHECK(access_of(f, "sb") == "active/optimized");
}

TEST_CASE("a path that turns transitioning stops getting new I/O until it settles", "[alua]") {
    LuFixture f;
    f.add("a", false, with_access(PathAccess::optimized));
    f.add("b", false, with_access(PathAccess::optimized));
    REQUIRE(f.wait_ready());
    f.paths.at("a")->report_access(PathAccess::transitioning);
    for (int i = 0; i < 4; ++i) {
        REQUIRE(f.wait(f.submit(IoOp::read, 8192 + 4096 * i)));
    }
    CHECK(f.data_ios("a", IoOp::read) == 0);
    CHECK(f.data_ios("b", IoOp::read) == 4);
    f.paths.at("a")->report_access(PathAccess::non_optimized);
    REQUIRE(f.lu->fail_path("b"));
    REQUIRE(f.wait(f.submit(IoOp::read, 65536)));
    CHECK(f.data_ios("a", IoOp::read) == 1);
}

TEST_CASE("a path's access state and detail are in its status", "[alua]") {
    LuFixture f;
    f.add("a", false, with_access(PathAccess::non_optimized, "tpg 2"));
    REQUIRE(f.wait_ready());
    auto p = f.lu->status().paths.at(0);
    CHECK(p.access == "active/non-optimized");
    CHECK(p.access_detail == "tpg 2");
}
