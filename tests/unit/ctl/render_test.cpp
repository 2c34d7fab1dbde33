// mpiod-ctl's human output for the daemon's results. The inputs are the daemon's own JSON
// (status_json.cpp), so a renamed field on either side shows up here.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "ctl/render.hpp"
#include "daemon/status_json.hpp"
#include "tests/unit/daemon/fake_backend.hpp"
#include "tests/unit/daemon/parsed_status.hpp"

using nlohmann::json;
using namespace mpiod;
using namespace mpiod::ctl;

namespace {

json all_paths() {
    auto paths = json::array();
    for (const auto& lu : test::sample_lus()) {
        for (const auto& p : lu.paths) {
            paths.push_back(test::parsed(p));
        }
    }
    return paths;
}

} // namespace

TEST_CASE("list paths shows one aligned line per path with the mean latency and the target "
          "last",
          "[render]") {
    CHECK(render_paths(all_paths()) ==
          "LU    PATH  TRANSPORT  STATE    INFLIGHT   IOS  ERRORS  LAT(us)  TARGET\n"
          "lun0  a     nbd        active          3  1000       0     85.5  "
          "nbd+unix:///?socket=/tmp/a.sock\n"
          "lun0  b     nbd        standby         0     0       0        -  "
          "nbd+unix:///?socket=/tmp/b.sock\n"
          "lun1  c     nbd        failed          0     0       4        -  "
          "nbd+unix:///?socket=/tmp/c.sock\n"
          "lun1  d     nbd        active          0     0       0        -  "
          "nbd+unix:///?socket=/tmp/d.sock\n");
}

TEST_CASE("list lus shows sizes in binary units and usable out of total paths", "[render]") {
    json result = test::parsed(test::sample_lus());
    CHECK(render_lus(result) == "NAME  WWID    POLICY        STATE   SIZE  PATHS  EXPORT\n"
                                "lun0  wwid-0  service-time  ready   1.0G    2/2  "
                                "/run/mpiod/lun0.sock\n"
                                "lun1  wwid-1  round-robin   ready  10.0M    1/2  -\n");
}

TEST_CASE("show lu prints a header block, its paths table and the paths' last errors", "[render]") {
    json lu = test::parsed(test::sample_lus()[1]);
    CHECK(
        render_lu(lu) ==
        "LU lun1 (wwid wwid-1)\n"
        "  state    ready\n"
        "  policy   round-robin\n"
        "  size     10.0M (10485760 bytes, block 4096)\n"
        "  paths    1/2 usable\n"
        "  i/o      0 done, 0 in flight, 0 queued, 0 errors, 0 failovers\n"
        "  exports  -\n"
        "\n"
        "PATH  TRANSPORT  STATE   INFLIGHT  IOS  ERRORS  LAT(us)  TARGET\n"
        "c     nbd        failed         0    0       4        -  nbd+unix:///?socket=/tmp/c.sock\n"
        "d     nbd        active         0    0       0        -  nbd+unix:///?socket=/tmp/d.sock\n"
        "\n"
        "last errors:\n"
        "  c:  connection refused\n");
}

TEST_CASE("a marginal path shows in its state, and show lu says why and for how long", "[render]") {
    auto lus = test::sample_lus();
    auto& d = lus[1].paths[1];
    d.marginal = true;
    d.marginal_reason = "3 failures within 60s";
    d.marginal_for_ms = 75'400;
    json lu = test::parsed(lus[1]);
    const auto text = render_lu(lu);
    CHECK(text.find("d     nbd        active, marginal         0    0       0        -  "
                    "nbd+unix:///?socket=/tmp/d.sock\n") != std::string::npos);
    CHECK(text.find("\nmarginal (used only while no healthier path is usable):\n"
                    "  d:  3 failures within 60s, for 1m 15s\n") != std::string::npos);
    CHECK(render_paths(lu["paths"]).find("lun1  d     nbd        active, marginal ") !=
          std::string::npos);
    CHECK(render_lu(test::parsed(test::sample_lus()[1])).find("marginal") == std::string::npos);
}

TEST_CASE("show lu omits the last errors block when no path has one", "[render]") {
    json lu = test::parsed(test::sample_lus()[0]);
    auto text = render_lu(lu);
    CHECK(text.find("last errors") == std::string::npos);
    CHECK(text.find("  size     1.0G (1073741824 bytes, block 512)\n") != std::string::npos);
}

TEST_CASE("status shows version, pid, uptime and path counts by state", "[render]") {
    auto started = Clock::time_point{} + std::chrono::hours(1);
    DaemonStatus d{"9.9.9", 4242, started, "/etc/mpiod/test.yaml"};
    auto status = test::parsed_status(d, test::sample_lus(), started + std::chrono::seconds(75));
    CHECK(render_status(status) == "mpiod 9.9.9, pid 4242, up 1m 15s\n"
                                   "config  /etc/mpiod/test.yaml\n"
                                   "LUs     2\n"
                                   "paths   4 (2 active, 1 failed, 1 standby)\n");
}

TEST_CASE("missing or mistyped fields render as dashes instead of failing", "[render]") {
    json odd_lu = {{"name", 5}, {"size_bytes", "big"}, {"paths", "x"}, {"exports", {1, 2}}};
    CHECK(render_lus(json::array({odd_lu})) == "NAME  WWID  POLICY  STATE  SIZE  PATHS  EXPORT\n"
                                               "5     -     -       -         -    0/0  -\n");
    CHECK(render_paths(json(nullptr)) ==
          "LU  PATH  TRANSPORT  STATE  INFLIGHT  IOS  ERRORS  LAT(us)  TARGET\n");
    CHECK(render_paths(json::array({{{"id", "p"}, {"ios", -3}, {"latency_mean_us", "slow"}}})) ==
          "LU  PATH  TRANSPORT  STATE  INFLIGHT  IOS  ERRORS  LAT(us)  TARGET\n"
          "-   p     -          -             -    0       -        -  -\n");
    CHECK(render_lus({{"lus", "not an array"}}) ==
          "NAME  WWID  POLICY  STATE  SIZE  PATHS  EXPORT\n");
    CHECK_NOTHROW(render_lu("not an object"));
    CHECK_NOTHROW(render_status(json::array()));
}

TEST_CASE("the tables render the same from only the fields they ask for", "[render]") {
    // Every column the tables show must be in lus_fields()/paths_fields(), or a listing
    // would show "-" where the full object has a value.
    auto lus = test::sample_lus();
    auto& d = lus[1].paths[1];
    d.marginal = true;
    d.in_doubt_writes = 2;
    d.in_doubt_age_ms = 12'000;
    d.counters.ios = 10;
    d.counters.latency_total_us = 1'234;
    auto names = [](const json& list) {
        return StatusFields(list.get<std::vector<std::string>>());
    };
    auto full_paths = json::array();
    auto few_paths = json::array();
    for (const auto& lu : lus) {
        for (const auto& p : lu.paths) {
            full_paths.push_back(test::parsed(p));
            few_paths.push_back(test::parsed(p, names(paths_fields())));
        }
    }
    CHECK(render_paths(few_paths) == render_paths(full_paths));
    CHECK(render_paths(few_paths).find("active, marginal, 2 in doubt for 12s") !=
          std::string::npos);
    CHECK(render_lus(test::parsed(lus, names(lus_fields()))) == render_lus(test::parsed(lus)));
}
