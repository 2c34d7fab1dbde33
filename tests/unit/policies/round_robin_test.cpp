// round-robin and round-robin-with-subset: even spread and a rotation that survives changes.
#include <map>
#include <vector>

#include <catch2/catch.hpp>

#include "policies/round_robin.hpp"
#include "policies/round_robin_with_subset.hpp"
#include "tests/unit/policies/policy_loads.hpp"

using namespace mpiod;
using namespace mpiod::test;

TEST_CASE("round-robin spreads many selections evenly over three paths", "[policies]") {
    RoundRobin policy;
    auto c = idle_paths(3);
    std::map<long, int> hits;
    for (int i = 0; i < 3000; ++i) {
        ++hits[chosen_id(policy.select(c, read_of(4096)), c)];
    }
    CHECK(hits == std::map<long, int>{{0, 1000}, {1, 1000}, {2, 1000}});
}

TEST_CASE("round-robin visits the candidates in their configured order", "[policies]") {
    RoundRobin policy;
    auto c = idle_paths(3);
    std::vector<long> order;
    for (int i = 0; i < 7; ++i) {
        order.push_back(chosen_id(policy.select(c, read_of(4096)), c));
    }
    CHECK(order == std::vector<long>{0, 1, 2, 0, 1, 2, 0});
}

TEST_CASE("round-robin ignores load", "[policies]") {
    RoundRobin policy;
    auto c = idle_paths(2);
    c[0].in_flight = 100;
    c[0].bytes_in_flight = 1u << 30;
    c[0].weight = 1000;
    CHECK(chosen_id(policy.select(c, read_of(4096)), c) == 0);
    CHECK(chosen_id(policy.select(c, read_of(4096)), c) == 1);
    CHECK(chosen_id(policy.select(c, read_of(4096)), c) == 0);
}

TEST_CASE("round-robin continues after the last chosen path when that path drops out",
          "[policies]") {
    RoundRobin policy;
    auto all = idle_paths(3);
    CHECK(chosen_id(policy.select(all, read_of(4096)), all) == 0);
    CHECK(chosen_id(policy.select(all, read_of(4096)), all) == 1);
    // Path 1 fails: the next is path 2, not the front of the list again.
    std::vector<PathLoad> without_1{all[0], all[2]};
    CHECK(chosen_id(policy.select(without_1, read_of(4096)), without_1) == 2);
    CHECK(chosen_id(policy.select(without_1, read_of(4096)), without_1) == 0);
    CHECK(chosen_id(policy.select(without_1, read_of(4096)), without_1) == 2);
    // Path 2 is the last chosen; when the last chosen path has the highest id, wrap around.
    std::vector<PathLoad> only_0{all[0]};
    CHECK(chosen_id(policy.select(only_0, read_of(4096)), only_0) == 0);
}

TEST_CASE("round-robin takes a returning path at its place in the rotation", "[policies]") {
    RoundRobin policy;
    auto all = idle_paths(3);
    std::vector<PathLoad> without_1{all[0], all[2]};
    CHECK(chosen_id(policy.select(without_1, read_of(4096)), without_1) == 0);
    // Path 1 is back: it follows path 0.
    CHECK(chosen_id(policy.select(all, read_of(4096)), all) == 1);
    CHECK(chosen_id(policy.select(all, read_of(4096)), all) == 2);
    CHECK(chosen_id(policy.select(all, read_of(4096)), all) == 0);
}

TEST_CASE("round-robin-with-subset reports its own name", "[policies]") {
    RoundRobinWithSubset policy;
    CHECK(policy.name() == "round-robin-with-subset");
    CHECK(RoundRobin{}.name() == "round-robin");
}

TEST_CASE("round-robin-with-subset selects exactly like round-robin over what it is given",
          "[policies]") {
    // The engine applies the standby subset; the policy sees the active members, or only the
    // standby members once no active member is usable.
    RoundRobin plain;
    RoundRobinWithSubset subset;
    auto all = idle_paths(4);
    const std::vector<std::vector<PathLoad>> rounds{
        {all[0], all[1]}, // active subset {0, 1}
        {all[0]},         // 1 failed
        {all[2], all[3]}, // whole active subset down: standby members {2, 3}
        {all[3]},         // 2 failed too
        {all[0], all[1]}, // active subset back
    };
    for (const auto& c : rounds) {
        for (int i = 0; i < 5; ++i) {
            auto expected = plain.select(c, read_of(4096));
            CHECK(subset.select(c, read_of(4096)) == expected);
        }
    }
}
