// The JSON field names of status snapshots: part of the control protocol, so pinned here.
#include <set>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "daemon/status_json.hpp"
#include "tests/unit/daemon/fake_backend.hpp"
#include "tests/unit/daemon/parsed_status.hpp"

using nlohmann::json;
using namespace mpiod;

namespace {

std::set<std::string> keys(const json& j) {
    std::set<std::string> k;
    for (const auto& [key, value] : j.items()) {
        k.insert(key);
    }
    return k;
}

} // namespace

TEST_CASE("a path's JSON carries exactly the documented field names", "[status_json]") {
    json j = test::parsed(test::sample_lus()[0].paths[0]);
    CHECK(keys(j) == std::set<std::string>{"lu",
                                           "id",
                                           "transport",
                                           "target",
                                           "wwid",
                                           "access",
                                           "access_detail",
                                           "state",
                                           "standby_member",
                                           "weight",
                                           "in_flight",
                                           "bytes_in_flight",
                                           "ios",
                                           "bytes_read",
                                           "bytes_written",
                                           "errors",
                                           "timeouts",
                                           "failures",
                                           "latency_mean_us",
                                           "latency_ewma_us",
                                           "latency_histogram",
                                           "last_error",
                                           "in_doubt_writes",
                                           "in_doubt_age_ms",
                                           "marginal",
                                           "marginal_for_ms",
                                           "marginal_reason",
                                           "marginal_entries"});
    CHECK(j["lu"] == "lun0");
    CHECK(j["id"] == "a");
    CHECK(j["state"] == "active");
    CHECK(j["access"] == "active/optimized");
    CHECK(j["in_flight"] == 3);
    CHECK(j["ios"] == 1000);
    CHECK(j["latency_mean_us"].get<double>() == Approx(85.5));
    CHECK(j["marginal"] == false);
}

TEST_CASE("an LU's JSON carries exactly the documented field names and nests its paths",
          "[status_json]") {
    json j = test::parsed(test::sample_lus()[1]);
    CHECK(keys(j) == std::set<std::string>{"name",
                                           "wwid",
                                           "policy",
                                           "state",
                                           "size_bytes",
                                           "rescanning",
                                           "block_size",
                                           "in_flight",
                                           "queued",
                                           "failovers",
                                           "io_errors",
                                           "ios",
                                           "bytes_read",
                                           "bytes_written",
                                           "in_doubt_writes",
                                           "kept_writes",
                                           "kept_bytes",
                                           "replays",
                                           "held",
                                           "latency_histogram",
                                           "queue_wait_histogram",
                                           "exports",
                                           "paths"});
    CHECK(j["block_size"] == 4096);
    REQUIRE(j["paths"].is_array());
    CHECK(j["paths"][0]["last_error"] == "connection refused");
    CHECK(j["paths"][0]["failures"] == 1);
    CHECK(j["exports"] == json::array());
}

TEST_CASE("a latency histogram lists its non-empty buckets by upper bound", "[status_json]") {
    LatencyHistogram h;
    h.record(5);
    h.record(5);
    h.record(1000);
    CHECK(test::parsed(h) == json::array({json::array({5, 2}), json::array({1023, 1})}));
    CHECK(test::parsed(LatencyHistogram{}) == json::array());
}

TEST_CASE("path states are spelled as operators see them", "[status_json]") {
    auto p = test::make_path("lu", "x", PathState::admin_failed, "t");
    CHECK(test::parsed(p)["state"] == "admin-failed");
    p.state = PathState::reinstating;
    CHECK(test::parsed(p)["state"] == "reinstating");
}

TEST_CASE("the status reply has the daemon's fields and the path counts", "[status_json]") {
    auto now = Clock::now();
    DaemonStatus d{"1.2.3", 77, now - std::chrono::seconds(30), "/etc/x.yaml"};
    auto j = test::parsed_status(d, test::sample_lus(), now);
    CHECK(keys(j) == std::set<std::string>{"version", "pid", "uptime_seconds", "config_file",
                                           "lu_count", "path_count", "path_states"});
    CHECK(j["version"] == "1.2.3");
    CHECK(j["pid"] == 77);
    CHECK(j["config_file"] == "/etc/x.yaml");
    CHECK(j["uptime_seconds"] == 30);
}

TEST_CASE("a listing's fields keep only the named fields of LUs and of their paths",
          "[status_json]") {
    StatusFields fields({"state", "paths", "name", "no_such_field"});
    auto lu = test::parsed(test::sample_lus()[1], fields);
    CHECK(keys(lu) == std::set<std::string>{"name", "state", "paths"});
    REQUIRE(lu["paths"].size() == 2);
    CHECK(keys(lu["paths"][0]) == std::set<std::string>{"state"});
    CHECK(lu["paths"][0]["state"] == "failed");
    auto path = test::parsed(test::sample_lus()[0].paths[0], StatusFields({"id", "ios"}));
    CHECK(path == json{{"id", "a"}, {"ios", 1000}});
    CHECK(test::parsed(test::sample_lus()[0], StatusFields(std::vector<std::string>{})) ==
          json::object());
    CHECK(keys(test::parsed(test::sample_lus()[0].paths[0])).size() == 28); // default: all
}

TEST_CASE("status JSON counts LUs, paths and paths per state, with uptime against now",
          "[status_json]") {
    auto started = Clock::time_point{} + std::chrono::hours(1);
    DaemonStatus d{"1.2.3", 77, started, "/etc/x.yaml"};
    auto j = test::parsed_status(d, test::sample_lus(), started + std::chrono::seconds(3725));
    CHECK(j["uptime_seconds"] == 3725);
    CHECK(j["lu_count"] == 2);
    CHECK(j["path_count"] == 4);
    CHECK(j["path_states"] == json{{"active", 2}, {"standby", 1}, {"failed", 1}});
    CHECK(test::parsed_status(d, {}, started)["path_states"] == json::object());
    CHECK(test::parsed_status(d, {}, started - std::chrono::seconds(5))["uptime_seconds"] == 0);
}
