// RepeatFilter: a condition is logged at its usual level when it starts or changes, at debug
// while it repeats, and at its usual level again after it ended.
#include <catch2/catch.hpp>

#include "core/repeat_filter.hpp"

using mpiod::RepeatFilter;
namespace level = spdlog::level;

TEST_CASE("repeated messages drop to debug until the text changes or the condition ends",
          "[core]") {
    RepeatFilter f;
    CHECK(f.level("connect: Connection refused") == level::warn);
    CHECK(f.level("connect: Connection refused") == level::debug);
    CHECK(f.level("connect: Connection refused") == level::debug);
    CHECK(f.level("TEST UNIT READY: DID_NO_CONNECT") == level::warn);
    CHECK(f.level("connect: Connection refused") == level::warn);
    f.reset();
    CHECK(f.level("connect: Connection refused", level::err) == level::err);
}
