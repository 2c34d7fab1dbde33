// service-time: least expected service time, exact integer arithmetic, ties.
#include <limits>
#include <vector>

#include <catch2/catch.hpp>

#include "policies/service_time.hpp"
#include "tests/unit/policies/policy_loads.hpp"

using namespace mpiod;
using namespace mpiod::test;

namespace {

PathLoad path(PathId id, std::uint64_t bytes, std::uint32_t throughput) {
    PathLoad p;
    p.id = id;
    p.in_flight = bytes == 0 ? 0 : 1;
    p.bytes_in_flight = bytes;
    p.throughput = throughput;
    return p;
}

} // namespace

TEST_CASE("service-time prefers the path with more throughput per in-flight byte", "[policies]") {
    ServiceTime policy;
    // Path 0: 8 KiB queued at throughput 1 -> (8192 + 4096) / 1 = 12288.
    // Path 1: 32 KiB queued at throughput 4 -> (32768 + 4096) / 4 = 9216.
    std::vector<PathLoad> c{path(0, 8192, 1), path(1, 32768, 4)};
    CHECK(chosen_id(policy.select(c, read_of(4096)), c) == 1);
}

TEST_CASE("service-time follows the dm-service-time example (sda throughput 1, sdb 4)",
          "[policies]") {
    // Documentation/admin-guide/device-mapper/dm-service-time.rst: sda 1 GB/s, sdb 4 GB/s,
    // relative throughput 1 and 4 (or 10 and 40: only the ratio matters). With sda idle, a
    // 4 KiB I/O costs 4096 / 1 on sda and (queued + 4096) / 4 on sdb.
    struct Row {
        std::uint64_t sdb_queued;
        long expected; // 0 = sda, 1 = sdb
    };
    auto row = GENERATE(Row{0, 1},      // 4096/4 = 1024 < 4096
                        Row{8192, 1},   // 12288/4 = 3072 < 4096
                        Row{12287, 1},  // 16383/4 < 4096
                        Row{12288, 0},  // 16384/4 = 4096: equal time, sda has fewer bytes
                        Row{16384, 0}); // 20480/4 = 5120 > 4096
    auto scale = GENERATE(1u, 10u);
    ServiceTime policy;
    std::vector<PathLoad> c{path(0, 0, 1 * scale), path(1, row.sdb_queued, 4 * scale)};
    CHECK(chosen_id(policy.select(c, read_of(4096)), c) == row.expected);
}

TEST_CASE("service-time counts the size of the next I/O", "[policies]") {
    // Path 0: L / 1; path 1: (1000 + L) / 2. Path 0 wins while L < 1000.
    std::vector<PathLoad> c{path(0, 0, 1), path(1, 1000, 2)};
    ServiceTime policy;
    CHECK(chosen_id(policy.select(c, read_of(512)), c) == 0);
    CHECK(chosen_id(policy.select(c, read_of(4096)), c) == 1);
}

TEST_CASE("service-time with equal throughput chooses the path with fewer bytes in flight",
          "[policies]") {
    ServiceTime policy;
    std::vector<PathLoad> c{path(0, 8192, 3), path(1, 4096, 3), path(2, 65536, 3)};
    CHECK(chosen_id(policy.select(c, read_of(4096)), c) == 1);
}

TEST_CASE("service-time with equal load chooses the higher throughput", "[policies]") {
    ServiceTime policy;
    std::vector<PathLoad> c{path(0, 4096, 2), path(1, 4096, 5), path(2, 4096, 1)};
    CHECK(chosen_id(policy.select(c, read_of(4096)), c) == 1);
}

TEST_CASE("service-time uses a path with throughput 0 only when every path has 0", "[policies]") {
    ServiceTime policy;
    std::vector<PathLoad> mixed{path(0, 0, 0), path(1, 1ull << 40, 1)};
    CHECK(chosen_id(policy.select(mixed, read_of(4096)), mixed) == 1);
    // Among unrated paths the one with fewer bytes in flight wins.
    std::vector<PathLoad> unrated{path(0, 8192, 0), path(1, 4096, 0)};
    CHECK(chosen_id(policy.select(unrated, read_of(4096)), unrated) == 1);
}

TEST_CASE("service-time compares exactly where 64-bit products would overflow", "[policies]") {
    // Path 0: 2^63 bytes at 2^31 -> 2^32. Path 1: 2^40 bytes at 1 -> 2^40. Path 0 is faster;
    // a 64-bit cross product (2^40 * 2^31) would wrap to 0 and pick path 1.
    ServiceTime policy;
    std::vector<PathLoad> c{path(0, 1ull << 63, 1u << 31), path(1, 1ull << 40, 1)};
    CHECK(chosen_id(policy.select(c, read_of(0)), c) == 0);

    const auto max_bytes = std::numeric_limits<std::uint64_t>::max();
    const auto max_tp = std::numeric_limits<std::uint32_t>::max();
    std::vector<PathLoad> extreme{path(0, max_bytes, 1), path(1, max_bytes, max_tp)};
    CHECK(chosen_id(policy.select(extreme, read_of(std::numeric_limits<std::uint32_t>::max())),
                    extreme) == 1);
}

TEST_CASE("service-time rotates among paths with identical load", "[policies]") {
    ServiceTime policy;
    std::vector<PathLoad> c{path(0, 4096, 2), path(1, 4096, 2), path(2, 4096, 1)};
    std::vector<long> order;
    for (int i = 0; i < 4; ++i) {
        order.push_back(chosen_id(policy.select(c, read_of(4096)), c));
    }
    CHECK(order == std::vector<long>{0, 1, 0, 1});
}

TEST_CASE("service-time spreads idle equal paths evenly", "[policies]") {
    ServiceTime policy;
    auto c = idle_paths(3);
    std::vector<int> hits(3);
    for (int i = 0; i < 300; ++i) {
        ++hits.at(static_cast<std::size_t>(chosen_id(policy.select(c, read_of(4096)), c)));
    }
    CHECK(hits == std::vector<int>{100, 100, 100});
}
