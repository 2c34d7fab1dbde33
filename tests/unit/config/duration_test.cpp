// Duration spelling in the configuration file.
#include <catch2/catch.hpp>

#include "config/duration.hpp"

using namespace mpiod;

TEST_CASE("durations parse with ms, s, m, h or no unit meaning seconds", "[config]") {
    using Row = std::pair<const char*, long long>;
    auto row =
        GENERATE(Row{"500ms", 500}, Row{"10s", 10'000}, Row{"2m", 120'000}, Row{"1h", 3'600'000},
                 Row{"10", 10'000}, Row{"0", 0}, Row{"0ms", 0}, Row{"007s", 7'000});
    CAPTURE(row.first);
    auto d = parse_duration(row.first);
    REQUIRE(d.has_value());
    CHECK(d->count() == row.second);
}

TEST_CASE("malformed durations are rejected", "[config]") {
    auto text = GENERATE("", "s", "ms", "10x", "-5s", "+5s", "1.5s", "10 s", " 10s", "10S", "1d",
                         "10sec", "0x10", "99999999999999999999s", "9223372036854775807h");
    CAPTURE(text);
    CHECK_FALSE(parse_duration(text).has_value());
}

TEST_CASE("durations format with the largest exact unit", "[config]") {
    using Row = std::pair<long long, const char*>;
    auto row = GENERATE(Row{0, "0s"}, Row{1, "1ms"}, Row{100, "100ms"}, Row{1500, "1500ms"},
                        Row{90'000, "90s"}, Row{120'000, "2m"}, Row{3'600'000, "1h"},
                        Row{86'400'000, "24h"});
    CHECK(format_duration(Millis{row.first}) == row.second);
    CHECK(parse_duration(format_duration(Millis{row.first})) == Millis{row.first});
}
