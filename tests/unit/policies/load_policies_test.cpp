// least-queue-depth, least-blocks and weighted-paths: the lowest load wins, ties rotate.
#include <map>
#include <vector>

#include <catch2/catch.hpp>

#include "policies/least_blocks.hpp"
#include "policies/least_queue_depth.hpp"
#include "policies/weighted_paths.hpp"
#include "tests/unit/policies/policy_loads.hpp"

using namespace mpiod;
using namespace mpiod::test;

TEST_CASE("least-queue-depth: 2 I/Os in flight on path 1 and none on path 2 chooses path 2 "
          "(MSDSM example)",
          "[policies]") {
    LeastQueueDepth policy;
    std::vector<PathLoad> c{PathLoad{1, 2, 8192}, PathLoad{2, 0, 0}};
    CHECK(chosen_id(policy.select(c, read_of(4096)), c) == 2);
}

TEST_CASE("least-queue-depth chooses the path with the fewest I/Os in flight", "[policies]") {
    using Row = std::pair<std::vector<std::uint32_t>, long>;
    auto row = GENERATE(Row{{0, 1}, 0}, Row{{3, 1, 2}, 1}, Row{{5, 5, 4}, 2}, Row{{9, 0, 9, 9}, 1},
                        Row{{4000000000u, 3999999999u}, 1});
    LeastQueueDepth policy;
    std::vector<PathLoad> c;
    for (std::size_t i = 0; i < row.first.size(); ++i) {
        c.push_back(PathLoad{static_cast<PathId>(i), row.first[i], 0});
    }
    CHECK(chosen_id(policy.select(c, read_of(4096)), c) == row.second);
}

TEST_CASE("least-queue-depth counts I/Os, not bytes", "[policies]") {
    LeastQueueDepth policy;
    std::vector<PathLoad> c{PathLoad{0, 1, 1u << 20}, PathLoad{1, 3, 3 * 512}};
    CHECK(chosen_id(policy.select(c, read_of(4096)), c) == 0);
}

TEST_CASE("least-queue-depth rotates among the paths tied for the fewest I/Os", "[policies]") {
    LeastQueueDepth policy;
    std::vector<PathLoad> c{PathLoad{0, 1, 0}, PathLoad{1, 4, 0}, PathLoad{2, 1, 0},
                            PathLoad{3, 1, 0}};
    std::vector<long> order;
    for (int i = 0; i < 6; ++i) {
        order.push_back(chosen_id(policy.select(c, read_of(4096)), c));
    }
    CHECK(order == std::vector<long>{0, 2, 3, 0, 2, 3});
}

TEST_CASE("least-blocks: I/Os of 10 and 20 bytes in flight on path 1 and none on path 2 "
          "chooses path 2 (MSDSM example)",
          "[policies]") {
    LeastBlocks policy;
    std::vector<PathLoad> c{PathLoad{1, 2, 10 + 20}, PathLoad{2, 0, 0}};
    CHECK(chosen_id(policy.select(c, read_of(4096)), c) == 2);
}

TEST_CASE("least-blocks chooses the path with the fewest bytes in flight", "[policies]") {
    using Row = std::pair<std::vector<std::uint64_t>, long>;
    auto row = GENERATE(Row{{30, 0}, 1}, Row{{0, 30}, 0}, Row{{4096, 512, 1024}, 1},
                        Row{{~0ull, ~0ull - 1}, 1});
    LeastBlocks policy;
    std::vector<PathLoad> c;
    for (std::size_t i = 0; i < row.first.size(); ++i) {
        c.push_back(PathLoad{static_cast<PathId>(i), 1, row.first[i]});
    }
    CHECK(chosen_id(policy.select(c, read_of(4096)), c) == row.second);
}

TEST_CASE("least-blocks counts bytes, not I/Os", "[policies]") {
    LeastBlocks policy;
    // One 1 MiB I/O against ten 4 KiB I/Os: the ten small ones are less work.
    std::vector<PathLoad> c{PathLoad{0, 1, 1u << 20}, PathLoad{1, 10, 10 * 4096}};
    CHECK(chosen_id(policy.select(c, read_of(4096)), c) == 1);
}

TEST_CASE("least-blocks rotates among the paths tied for the fewest bytes", "[policies]") {
    LeastBlocks policy;
    std::vector<PathLoad> c{PathLoad{0, 1, 512}, PathLoad{1, 1, 512}, PathLoad{2, 0, 0},
                            PathLoad{3, 0, 0}};
    std::vector<long> order;
    for (int i = 0; i < 4; ++i) {
        order.push_back(chosen_id(policy.select(c, read_of(4096)), c));
    }
    CHECK(order == std::vector<long>{2, 3, 2, 3});
}

TEST_CASE("weighted-paths chooses the lowest weight", "[policies]") {
    using Row = std::pair<std::vector<std::uint32_t>, long>;
    auto row = GENERATE(Row{{1, 5}, 0}, Row{{5, 1}, 1}, Row{{10, 3, 7}, 1},
                        Row{{1000000, 999999, 1000000}, 1});
    WeightedPaths policy;
    std::vector<PathLoad> c;
    for (std::size_t i = 0; i < row.first.size(); ++i) {
        c.push_back(PathLoad{static_cast<PathId>(i), 0, 0, row.first[i]});
    }
    CHECK(chosen_id(policy.select(c, read_of(4096)), c) == row.second);
}

TEST_CASE("weighted-paths keeps the lowest weight however loaded it is", "[policies]") {
    WeightedPaths policy;
    std::vector<PathLoad> c{PathLoad{0, 64, 64u << 20, 5}, PathLoad{1, 0, 0, 1}};
    c[1].in_flight = 1000;
    for (int i = 0; i < 10; ++i) {
        CHECK(chosen_id(policy.select(c, read_of(4096)), c) == 1);
    }
}

TEST_CASE("weighted-paths spreads evenly over the paths tied for the lowest weight", "[policies]") {
    WeightedPaths policy;
    std::vector<PathLoad> c{PathLoad{0, 0, 0, 2}, PathLoad{1, 0, 0, 1}, PathLoad{2, 0, 0, 1}};
    std::map<long, int> hits;
    for (int i = 0; i < 100; ++i) {
        ++hits[chosen_id(policy.select(c, read_of(4096)), c)];
    }
    CHECK(hits == std::map<long, int>{{1, 50}, {2, 50}});
}
