// REPORT TARGET PORT GROUPS: the CDB built by hand and synthetic responses.
#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include "transports/scsi/scsi_command.hpp"
#include "transports/scsi/scsi_data_error.hpp"
#include "transports/scsi/target_port_groups.hpp"

using namespace mpiod::scsi;
using mpiod::PathAccess;
using Bytes = std::vector<std::uint8_t>;

namespace {

Bytes group(std::uint8_t state_byte, std::uint16_t id, const std::vector<std::uint16_t>& ports) {
    Bytes g{
        state_byte, 0x8f, static_cast<std::uint8_t>(id >> 8),     static_cast<std::uint8_t>(id), 0,
        0x02,       0,    static_cast<std::uint8_t>(ports.size())};
    for (auto p : ports) {
        g.insert(g.end(), {0, 0, static_cast<std::uint8_t>(p >> 8), static_cast<std::uint8_t>(p)});
    }
    return g;
}

Bytes response(bool extended, std::uint8_t transition, const std::vector<Bytes>& groups) {
    Bytes r{0, 0, 0, 0};
    if (extended) {
        r.insert(r.end(), {0x10, transition, 0, 0});
    }
    for (const auto& g : groups) {
        r.insert(r.end(), g.begin(), g.end());
    }
    std::uint32_t n = static_cast<std::uint32_t>(r.size() - 4);
    r[0] = static_cast<std::uint8_t>(n >> 24);
    r[1] = static_cast<std::uint8_t>(n >> 16);
    r[2] = static_cast<std::uint8_t>(n >> 8);
    r[3] = static_cast<std::uint8_t>(n);
    return r;
}

} // namespace

TEST_CASE("the RTPG CDB", "[scsi][alua]") {
    ScsiCommand ext = report_target_port_groups_command(0x1234, true);
    CHECK(ext.cdb_length == 12);
    CHECK(Bytes(ext.cdb.begin(), ext.cdb.begin() + 12) ==
          Bytes{0xa3, 0x2a, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0, 0});
    CHECK(ext.direction == DataDirection::from_device);
    CHECK(ext.transfer_length == 0x1234);
    CHECK(report_target_port_groups_command(64, false).cdb[1] == 0x0a);
    CHECK(describe(ext) == "REPORT TARGET PORT GROUPS");
}

TEST_CASE("extended-header RTPG with two groups", "[scsi][alua]") {
    Bytes r = response(true, 30,
                       {group(0x80 | alua_state::active_optimized, 1, {1, 2}),
                        group(alua_state::standby, 2, {3})});
    auto report = parse_report_target_port_groups(r);
    CHECK(report.implicit_transition_seconds == 30);
    REQUIRE(report.groups.size() == 2);
    CHECK(report.groups[0].id == 1);
    CHECK(report.groups[0].preferred);
    CHECK(report.groups[0].relative_ports == std::vector<std::uint16_t>{1, 2});
    CHECK(report.groups[1].state == alua_state::standby);
    CHECK(report.groups[1].status_code == 2);

    const auto* by_tpg = find_group(report, 2, std::nullopt);
    REQUIRE(by_tpg != nullptr);
    CHECK(path_access(by_tpg->state) == PathAccess::standby);
    CHECK(access_detail(*by_tpg) == "tpg 2");
    const auto* by_port = find_group(report, std::nullopt, 2);
    REQUIRE(by_port != nullptr);
    CHECK(access_detail(*by_port) == "tpg 1, preferred");
    CHECK(find_group(report, 9, std::nullopt) == nullptr);
    CHECK(find_group(report, std::nullopt, 9) == nullptr);
}

TEST_CASE("plain-header RTPG", "[scsi][alua]") {
    Bytes r = response(false, 0, {group(alua_state::transitioning, 5, {7})});
    auto report = parse_report_target_port_groups(r);
    CHECK_FALSE(report.implicit_transition_seconds);
    REQUIRE(report.groups.size() == 1);
    CHECK(path_access(report.groups[0].state) == PathAccess::transitioning);
}

TEST_CASE("every ALUA state maps to core's access", "[scsi][alua]") {
    CHECK(path_access(alua_state::active_optimized) == PathAccess::optimized);
    CHECK(path_access(alua_state::active_non_optimized) == PathAccess::non_optimized);
    CHECK(path_access(alua_state::lba_dependent) == PathAccess::non_optimized);
    CHECK(path_access(alua_state::standby) == PathAccess::standby);
    CHECK(path_access(alua_state::unavailable) == PathAccess::unavailable);
    CHECK(path_access(alua_state::offline) == PathAccess::unavailable);
    CHECK(path_access(alua_state::transitioning) == PathAccess::transitioning);
    CHECK(path_access(0x7) == PathAccess::unavailable);
}

TEST_CASE("truncated and malformed RTPG data", "[scsi][alua][malformed]") {
    Bytes r = response(true, 10, {group(0, 1, {1, 2}), group(2, 2, {3})});
    auto len = rtpg_length(r);
    CHECK(len == r.size());
    for (std::size_t n = 0; n < r.size(); ++n) {
        INFO("first " << n << " bytes");
        Bytes cut(r.begin(), r.begin() + static_cast<std::ptrdiff_t>(n));
        CHECK_THROWS_AS(parse_report_target_port_groups(cut), ScsiDataError);
    }
    Bytes lying = r;
    lying[8 + 7] = 9; // first group claims 9 ports
    CHECK_THROWS_WITH(parse_report_target_port_groups(lying), Catch::Contains("past the data end"));
    Bytes stub = response(false, 0, {});
    stub.insert(stub.end(), {0, 0, 0});
    stub[3] = 3;
    CHECK_THROWS_WITH(parse_report_target_port_groups(stub), Catch::Contains("descriptor"));
}
