// The Prometheus text of status snapshots: escaping, every family once with its samples
// after it, cumulative histograms, one-hot states and the values themselves.
#include <cstdint>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "exports/metrics/metrics_text.hpp"

using namespace mpiod;

namespace {

PathStatus path(const std::string& lu, const std::string& id, PathState state) {
    PathStatus p;
    p.id = id;
    p.lu = lu;
    p.wwid = "36001405f00dbabe";
    p.state = state;
    return p;
}

std::vector<LuStatus> two_paths() {
    LuStatus lu;
    lu.name = "db0";
    lu.wwid = "36001405f00dbabe";
    lu.state = "ready";
    lu.ios = 7;
    lu.failovers = 3;
    lu.bytes_read = 4096;
    lu.queued = 2;
    lu.paths.push_back(path("db0", "a", PathState::active));
    lu.paths.push_back(path("db0", "b", PathState::failed));
    lu.paths[1].counters.failures = 5;
    lu.paths[1].counters.in_flight = 4;
    return {lu};
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        out.push_back(line);
    }
    return out;
}

// The value of the sample whose line starts with `series` (name and labels) followed by ' '.
std::string value_of(const std::string& text, const std::string& series) {
    for (const auto& line : lines_of(text)) {
        if (line.starts_with(series + " ")) {
            return line.substr(series.size() + 1);
        }
    }
    FAIL("no sample " << series);
    return {};
}

const std::string path_b = "lu=\"db0\",path=\"b\",wwid=\"36001405f00dbabe\"";
const std::string lu_db0 = "lu=\"db0\",wwid=\"36001405f00dbabe\"";

} // namespace

TEST_CASE("label values escape backslash, double quote and newline") {
    CHECK(escape_label_value("plain-1.x") == "plain-1.x");
    CHECK(escape_label_value("a\\b") == "a\\\\b");
    CHECK(escape_label_value("say \"hi\"") == "say \\\"hi\\\"");
    CHECK(escape_label_value("two\nlines") == "two\\nlines");
}

TEST_CASE("seconds are written exactly in decimal") {
    CHECK(seconds_text(0) == "0");
    CHECK(seconds_text(16) == "0.000016");
    CHECK(seconds_text(1'000'000) == "1");
    CHECK(seconds_text(2'500'000) == "2.5");
    CHECK(seconds_text(67'108'864) == "67.108864");
}

TEST_CASE("every family appears once, HELP then TYPE, with its samples right after it") {
    const auto text = render_metrics(two_paths(), "0.1.0");
    std::map<std::string, std::string> types; // family -> type
    std::set<std::string> helped;
    std::string current; // the family whose samples may follow
    for (const auto& line : lines_of(text)) {
        REQUIRE_FALSE(line.empty());
        if (line.starts_with("# HELP ")) {
            const auto name = line.substr(7, line.find(' ', 7) - 7);
            CHECK(helped.insert(name).second);
            current.clear();
        } else if (line.starts_with("# TYPE ")) {
            const auto name = line.substr(7, line.find(' ', 7) - 7);
            CHECK(helped.count(name) == 1);
            CHECK(types.emplace(name, line.substr(line.rfind(' ') + 1)).second);
            current = name;
        } else {
            INFO(line);
            REQUIRE_FALSE(current.empty());
            const auto name = line.substr(0, line.find_first_of("{ "));
            const bool belongs =
                name == current || (types[current] == "histogram" &&
                                    (name == current + "_bucket" || name == current + "_sum" ||
                                     name == current + "_count"));
            CHECK(belongs);
        }
    }
    const std::map<std::string, std::string> expected{
        {"mpiod_build_info", "gauge"},
        {"mpiod_lu_ios_total", "counter"},
        {"mpiod_lu_read_bytes_total", "counter"},
        {"mpiod_lu_written_bytes_total", "counter"},
        {"mpiod_lu_io_errors_total", "counter"},
        {"mpiod_lu_failovers_total", "counter"},
        {"mpiod_lu_in_flight_ios", "gauge"},
        {"mpiod_lu_queued_ios", "gauge"},
        {"mpiod_lu_size_bytes", "gauge"},
        {"mpiod_lu_in_doubt_writes", "gauge"},
        {"mpiod_lu_kept_writes", "gauge"},
        {"mpiod_lu_kept_bytes", "gauge"},
        {"mpiod_lu_replays_total", "counter"},
        {"mpiod_lu_held_ios", "gauge"},
        {"mpiod_lu_state", "gauge"},
        {"mpiod_lu_io_latency_seconds", "histogram"},
        {"mpiod_lu_queue_wait_seconds", "histogram"},
        {"mpiod_path_ios_total", "counter"},
        {"mpiod_path_read_bytes_total", "counter"},
        {"mpiod_path_written_bytes_total", "counter"},
        {"mpiod_path_errors_total", "counter"},
        {"mpiod_path_timeouts_total", "counter"},
        {"mpiod_path_failovers_total", "counter"},
        {"mpiod_path_in_flight_ios", "gauge"},
        {"mpiod_path_in_flight_bytes", "gauge"},
        {"mpiod_path_in_doubt_writes", "gauge"},
        {"mpiod_path_marginal", "gauge"},
        {"mpiod_path_marginal_entries_total", "counter"},
        {"mpiod_path_state", "gauge"},
        {"mpiod_path_io_latency_seconds", "histogram"},
    };
    CHECK(types == expected);
    for (const auto& [name, type] : types) {
        INFO(name);
        CHECK((type != "counter" || name.ends_with("_total")));
    }
}

TEST_CASE("families are listed with HELP and TYPE even with no LU") {
    const auto text = render_metrics({}, "0.1.0");
    CHECK(text.find("# TYPE mpiod_path_failovers_total counter\n") != std::string::npos);
    CHECK(value_of(text, "mpiod_build_info{version=\"0.1.0\"}") == "1");
}

TEST_CASE("counters and gauges carry the snapshot's values with lu, path and wwid labels") {
    const auto text = render_metrics(two_paths(), "0.1.0");
    CHECK(value_of(text, "mpiod_lu_ios_total{" + lu_db0 + "}") == "7");
    CHECK(value_of(text, "mpiod_lu_failovers_total{" + lu_db0 + "}") == "3");
    CHECK(value_of(text, "mpiod_lu_read_bytes_total{" + lu_db0 + "}") == "4096");
    CHECK(value_of(text, "mpiod_lu_queued_ios{" + lu_db0 + "}") == "2");
    CHECK(value_of(text, "mpiod_path_failovers_total{" + path_b + "}") == "5");
    CHECK(value_of(text, "mpiod_path_in_flight_ios{" + path_b + "}") == "4");
}

TEST_CASE("path and LU states are one-hot over every state") {
    const auto text = render_metrics(two_paths(), "0.1.0");
    for (auto state : all_path_states) {
        const auto series =
            "mpiod_path_state{" + path_b + ",state=\"" + std::string(to_string(state)) + "\"}";
        CHECK(value_of(text, series) == (state == PathState::failed ? "1" : "0"));
    }
    CHECK(value_of(text, "mpiod_lu_state{" + lu_db0 + ",state=\"ready\"}") == "1");
    CHECK(value_of(text, "mpiod_lu_state{" + lu_db0 + ",state=\"queueing\"}") == "0");
}

TEST_CASE("names with quotes, backslashes and newlines are escaped in labels") {
    auto lus = two_paths();
    lus[0].name = "odd\"name\\\n";
    const auto text = render_metrics(lus, "0.1.0");
    CHECK(
        value_of(text, "mpiod_lu_ios_total{lu=\"odd\\\"name\\\\\\n\",wwid=\"36001405f00dbabe\"}") ==
        "7");
}

TEST_CASE("histograms are cumulative in seconds, end in +Inf and match _count and _sum") {
    auto lus = two_paths();
    for (std::uint64_t us : {100u, 1000u, 50'000u, 100'000'000u}) {
        lus[0].latency.record(us);
    }
    const auto text = render_metrics(lus, "0.1.0");
    const auto bucket = [&](const std::string& le) {
        return value_of(text,
                        "mpiod_lu_io_latency_seconds_bucket{" + lu_db0 + ",le=\"" + le + "\"}");
    };
    CHECK(bucket("0.000016") == "0");
    CHECK(bucket("0.000064") == "0");
    CHECK(bucket("0.000128") == "1"); // 100 µs
    CHECK(bucket("0.001024") == "2"); // 1 ms
    CHECK(bucket("0.065536") == "3"); // 50 ms
    CHECK(bucket("67.108864") == "3");
    CHECK(bucket("+Inf") == "4"); // 100 s: above the last bound
    CHECK(value_of(text, "mpiod_lu_io_latency_seconds_count{" + lu_db0 + "}") == "4");
    CHECK(value_of(text, "mpiod_lu_io_latency_seconds_sum{" + lu_db0 + "}") == "100.0511");

    // Every bound, in order, never decreasing.
    std::uint64_t previous = 0;
    for (auto bound : metrics_bucket_bounds_us) {
        const auto n = std::stoull(bucket(seconds_text(bound)));
        CHECK(n >= previous);
        previous = n;
    }
}

TEST_CASE("a latency on a bucket's edge counts below the bound only when under it") {
    auto lus = two_paths();
    lus[0].latency.record(127); // whole µs: under 128 µs
    lus[0].latency.record(128); // at least 128 µs: not under it
    const auto text = render_metrics(lus, "0.1.0");
    CHECK(value_of(text, "mpiod_lu_io_latency_seconds_bucket{" + lu_db0 + ",le=\"0.000128\"}") ==
          "1");
    CHECK(value_of(text, "mpiod_lu_io_latency_seconds_bucket{" + lu_db0 + ",le=\"0.000256\"}") ==
          "2");
}
