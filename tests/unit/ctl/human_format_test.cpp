// Sizes, durations and latencies as mpiod-ctl prints them.
#include <cmath>
#include <cstdint>
#include <limits>

#include <catch2/catch.hpp>

#include "ctl/human_format.hpp"

using namespace mpiod::ctl;

TEST_CASE("sizes use binary units with one decimal", "[human_format]") {
    CHECK(format_size(0) == "0B");
    CHECK(format_size(512) == "512B");
    CHECK(format_size(1023) == "1023B");
    CHECK(format_size(1024) == "1.0K");
    CHECK(format_size(1536) == "1.5K");
    CHECK(format_size(10ull << 20) == "10.0M");
    CHECK(format_size(1ull << 30) == "1.0G");
    CHECK(format_size(500ull << 30) == "500.0G");
    CHECK(format_size(3ull << 40) == "3.0T");
    CHECK(format_size(std::numeric_limits<std::uint64_t>::max()) == "16.0E");
}

TEST_CASE("a size that would round to 1024 of a unit moves to the next unit", "[human_format]") {
    CHECK(format_size((1ull << 20) - 1) == "1.0M");
    CHECK(format_size((1ull << 30) - 1) == "1.0G");
    CHECK(format_size((1ull << 20) - 60) == "1023.9K");
}

TEST_CASE("durations show the largest units first with two-digit smaller units", "[human_format]") {
    CHECK(format_duration(0) == "0s");
    CHECK(format_duration(42) == "42s");
    CHECK(format_duration(303) == "5m 03s");
    CHECK(format_duration(7503) == "2h 05m 03s");
    CHECK(format_duration(266700) == "3d 02h 05m 00s");
    CHECK(format_duration(-5) == "0s");
}

TEST_CASE("latencies show one decimal below a millisecond and whole microseconds above",
          "[human_format]") {
    CHECK(format_latency_us(0) == "0.0");
    CHECK(format_latency_us(85.25) == "85.2");
    CHECK(format_latency_us(999.94) == "999.9");
    CHECK(format_latency_us(999.96) == "1000");
    CHECK(format_latency_us(12345.6) == "12346");
    CHECK(format_latency_us(-1) == "-");
    CHECK(format_latency_us(std::nan("")) == "-");
}
