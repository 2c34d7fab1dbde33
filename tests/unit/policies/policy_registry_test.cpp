// The policy registry and the properties every policy shares.
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/lu_settings.hpp"
#include "policies/policy_registry.hpp"
#include "tests/unit/policies/policy_loads.hpp"

using namespace mpiod;
using namespace mpiod::test;

TEST_CASE("policy_names lists exactly the seven documented policies", "[policies]") {
    std::vector<std::string> names;
    for (std::string_view n : policy_names()) {
        names.emplace_back(n);
    }
    CHECK(names == std::vector<std::string>{"failover-only", "round-robin",
                                            "round-robin-with-subset", "least-queue-depth",
                                            "weighted-paths", "least-blocks", "service-time"});
}

TEST_CASE("every name in policy_names constructs a policy that reports that name", "[policies]") {
    auto name = GENERATE(from_range(policy_names().begin(), policy_names().end()));
    auto policy = make_policy(name);
    REQUIRE(policy != nullptr);
    CHECK(policy->name() == name);
}

TEST_CASE("the default policy from LuSettings is a known policy", "[policies]") {
    auto policy = make_policy(LuSettings{}.policy);
    REQUIRE(policy != nullptr);
    CHECK(policy->name() == "service-time");
}

TEST_CASE("an unknown policy name makes nullptr", "[policies]") {
    auto name = GENERATE(as<std::string>{}, "", "Round-Robin", "service_time", "round-robin ",
                         "fifo", "failover");
    CHECK(make_policy(name) == nullptr);
}

TEST_CASE("make_policy works as a core PolicyFactory", "[policies]") {
    PolicyFactory factory = make_policy;
    auto policy = factory("least-blocks");
    REQUIRE(policy != nullptr);
    CHECK(policy->name() == "least-blocks");
    CHECK(factory("nonsense") == nullptr);
}

TEST_CASE("every policy returns nullopt for an empty candidate list", "[policies]") {
    auto name = GENERATE(from_range(policy_names().begin(), policy_names().end()));
    auto policy = make_policy(name);
    REQUIRE(policy != nullptr);
    std::vector<PathLoad> none;
    CHECK_FALSE(policy->select(none, read_of(4096)).has_value());
    // And again after it has chosen something, so remembered state does not leak through.
    auto one = idle_paths(1);
    CHECK(policy->select(one, read_of(4096)) == std::optional<std::size_t>{0});
    CHECK_FALSE(policy->select(none, read_of(4096)).has_value());
}

TEST_CASE("every policy picks the only candidate whatever its load", "[policies]") {
    auto name = GENERATE(from_range(policy_names().begin(), policy_names().end()));
    auto policy = make_policy(name);
    REQUIRE(policy != nullptr);
    std::vector<PathLoad> one{PathLoad{7, 100, 1u << 30, 1000, 0}};
    for (int i = 0; i < 3; ++i) {
        CHECK(policy->select(one, read_of(512)) == std::optional<std::size_t>{0});
    }
}

TEST_CASE("every policy returns an index inside the candidate list for arbitrary loads",
          "[policies]") {
    auto name = GENERATE(from_range(policy_names().begin(), policy_names().end()));
    auto policy = make_policy(name);
    REQUIRE(policy != nullptr);
    std::mt19937_64 rng(42);
    for (int round = 0; round < 2000; ++round) {
        std::vector<PathLoad> c(1 + rng() % 6);
        for (auto& p : c) {
            p.id = static_cast<PathId>(rng() % 8);
            p.in_flight = static_cast<std::uint32_t>(rng() % 4);
            p.bytes_in_flight = rng() % 3 == 0 ? rng() : rng() % 65536;
            p.weight = static_cast<std::uint32_t>(rng() % 3);
            p.throughput = static_cast<std::uint32_t>(rng() % 3 == 0 ? rng() : rng() % 3);
        }
        auto index = policy->select(c, read_of(static_cast<std::uint32_t>(rng())));
        REQUIRE(index.has_value());
        REQUIRE(*index < c.size());
    }
}

TEST_CASE("failover-only sticks to the first candidate whatever the load", "[policies]") {
    auto policy = make_policy("failover-only");
    auto c = idle_paths(3);
    c[0].in_flight = 50;
    c[0].bytes_in_flight = 50u << 20;
    c[0].weight = 1000;
    for (int i = 0; i < 100; ++i) {
        CHECK(policy->select(c, read_of(4096)) == std::optional<std::size_t>{0});
    }
}

TEST_CASE("failover-only returns to the first path as soon as it is a candidate again",
          "[policies]") {
    auto policy = make_policy("failover-only");
    auto all = idle_paths(3);
    std::vector<PathLoad> without_first(all.begin() + 1, all.end());
    CHECK(chosen_id(policy->select(all, read_of(4096)), all) == 0);
    CHECK(chosen_id(policy->select(without_first, read_of(4096)), without_first) == 1);
    CHECK(chosen_id(policy->select(without_first, read_of(4096)), without_first) == 1);
    CHECK(chosen_id(policy->select(all, read_of(4096)), all) == 0);
}
