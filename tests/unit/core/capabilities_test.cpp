// One capabilities type for paths and exports: what "covers" means.
#include <catch2/catch.hpp>

#include "core/capabilities.hpp"

using namespace mpiod;

namespace {

Capabilities disk() {
    Capabilities c;
    c.min_block = 512;
    c.max_request = 1u << 20;
    c.can_flush = c.can_fua = c.can_trim = c.can_write_zeroes = true;
    return c;
}

} // namespace

TEST_CASE("a path with the same or wider capabilities covers the lu") {
    auto lu = disk();
    CHECK(disk().covers(lu));
    auto wider = disk();
    wider.min_block = 1;
    wider.max_request = 32u << 20;
    wider.can_multi_conn = true;
    wider.preferred_block = 512; // a hint, not compared
    CHECK(wider.covers(lu));
    CHECK(wider.what_lacks(lu).empty());
}

TEST_CASE("narrower limits, read-only or a missing operation do not cover the lu") {
    auto lu = disk();
    auto coarse = disk();
    coarse.min_block = 4096;
    CHECK_FALSE(coarse.covers(lu));
    CHECK(coarse.what_lacks(lu).find("block limits") != std::string::npos);

    auto small = disk();
    small.max_request = 64u << 10;
    CHECK_FALSE(small.covers(lu));

    auto ro = disk();
    ro.read_only = true;
    CHECK(ro.what_lacks(lu) == "it is read-only but the lu is writable");

    auto no_trim = disk();
    no_trim.can_trim = false;
    no_trim.can_fua = false;
    CHECK(no_trim.what_lacks(lu) == "it lacks fua, trim, which the lu advertises");
}

TEST_CASE("an lu that does not offer an operation does not need it") {
    auto lu = disk();
    lu.can_trim = lu.can_write_zeroes = false;
    lu.read_only = true;
    auto path = disk();
    path.can_trim = path.can_write_zeroes = false;
    CHECK(path.covers(lu)); // a writable path serves a read-only lu
}
