// normalize_extents: the shape every export relies on.
#include <catch2/catch.hpp>

#include "core/block_status.hpp"

using namespace mpiod;

TEST_CASE("extents are merged by status, empty ones dropped, the sum clipped to the request") {
    BlockExtents e{{512, true, true},
                   {0, false, false},
                   {512, true, true},
                   {1024, false, false},
                   {4096, false, true}};
    normalize_extents(e, 3000);
    CHECK(e == BlockExtents{{1024, true, true}, {1024, false, false}, {952, false, true}});
}

TEST_CASE("a shorter answer stays shorter; an empty one becomes all data") {
    BlockExtents shorter{{512, true, false}};
    normalize_extents(shorter, 4096);
    CHECK(shorter == BlockExtents{{512, true, false}});

    BlockExtents none;
    normalize_extents(none, 4096);
    CHECK(none == all_data(4096));

    BlockExtents zeros{{0, true, true}};
    normalize_extents(zeros, 8);
    CHECK(zeros == BlockExtents{{8, false, false}});
}
