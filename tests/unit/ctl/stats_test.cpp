// mpiod-ctl stats: rates and interval percentiles from two list-lus snapshots.
#include <catch2/catch.hpp>

#include "ctl/stats.hpp"

using namespace mpiod::ctl;
using json = nlohmann::json;

namespace {

json lu(std::uint64_t ios, std::uint64_t read, json histogram, std::uint64_t failovers,
        json paths = json::array()) {
    return {{"name", "db0"},
            {"ios", ios},
            {"bytes_read", read},
            {"bytes_written", 0},
            {"io_errors", 0},
            {"failovers", failovers},
            {"latency_histogram", histogram},
            {"paths", paths}};
}

} // namespace

TEST_CASE("stats divide the interval's counts by its length and rank only its latencies",
          "[stats]") {
    // Before: 100 slow I/Os. During the interval: 200 more, all of them fast but one.
    const json before = json::array({lu(100, 0, {{1023, 100}}, 0)});
    const json after = json::array(
        {lu(300, 800 * 1024, {{1023, 101}, {111, 199}}, 3,
            json::array({{{"id", "a"}, {"ios", 50}, {"failures", 1}, {"errors", 2}}}))});
    auto rows = compute_stats(before, after, 2.0);
    REQUIRE(rows.size() == 2);
    CHECK(rows[0]["lu"] == "db0");
    CHECK(rows[0]["path"] == "");
    CHECK(rows[0]["iops"].get<double>() == Approx(100));
    CHECK(rows[0]["read_bytes_per_s"].get<double>() == Approx(400 * 1024));
    CHECK(rows[0]["p50_us"] == 111);
    CHECK(rows[0]["p99_us"] == 111); // the 100 slow ones are from before the interval
    CHECK(rows[0]["max_us"] == 1023);
    CHECK(rows[0]["failovers"] == 3);
    // A path absent from the first snapshot counts from zero.
    CHECK(rows[1]["path"] == "a");
    CHECK(rows[1]["iops"].get<double>() == Approx(25));
    CHECK(rows[1]["failovers"] == 1);
    CHECK(rows[1]["errors"] == 2);
    CHECK(rows[1]["p50_us"] == 0);
    auto text = render_stats(rows);
    CHECK(text.find("P99(us)") != std::string::npos);
    CHECK(text.find("db0") != std::string::npos);
}

TEST_CASE("stats survive malformed snapshots", "[stats]") {
    CHECK(compute_stats(json::array(), json::object(), 1.0) == json::array());
    auto rows =
        compute_stats(json(5), json::array({{{"name", "x"}, {"latency_histogram", 7}}}), 1.0);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0]["iops"].get<double>() == 0);
}
