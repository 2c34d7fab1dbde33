// SendTargets discovery against tgtd: every block-device LUN of every target, as URIs.
#include <algorithm>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/system/errc.hpp>
#include <catch2/catch.hpp>

#include "tests/support/run_until.hpp"
#include "tgt_fixture.hpp"
#include "transports/iscsi/iscsi_discovery.hpp"

using namespace mpiod;
using mpiod::test::run_until;
using mpiod::test::TgtFixture;
using namespace std::chrono_literals;

namespace {
struct Found {
    boost::system::error_code ec;
    std::vector<std::string> uris;
};

std::optional<Found> discover(boost::asio::io_context& ctx, const std::string& portal) {
    std::optional<Found> out;
    discover_iscsi_targets(ctx.get_executor(), portal,
                           [&](boost::system::error_code ec, std::vector<std::string> uris) {
                               out = Found{ec, std::move(uris)};
                           });
    run_until(
        ctx, [&] { return out.has_value(); }, 30s);
    return out;
}
} // namespace

TEST_CASE("discovery lists the disk LUNs of every target", "[iscsi][tgt][discovery]") {
    REQUIRE_TGT();
    TgtFixture tgt;
    tgt.add_lun(1, 1, 8, "60014050000000000000000000000011");
    tgt.add_lun(1, 2, 8, "60014050000000000000000000000012");
    tgt.add_lun(2, 3, 8, "60014050000000000000000000000023");
    boost::asio::io_context ctx;
    auto f = discover(ctx, tgt.portal_uri());
    REQUIRE(f);
    REQUIRE_FALSE(f->ec);
    auto uris = f->uris;
    std::sort(uris.begin(), uris.end());
    // LUN 0 of each target is tgt's controller: not a block device, not listed.
    CHECK(uris == std::vector<std::string>{tgt.uri(1, 1), tgt.uri(1, 2), tgt.uri(2, 3)});
}

TEST_CASE("discovery errors", "[iscsi][discovery]") {
    boost::asio::io_context ctx;
    auto bad = discover(ctx, "http://127.0.0.1");
    REQUIRE(bad);
    CHECK(bad->ec == boost::system::errc::invalid_argument);
    auto refused = discover(ctx, "iscsi://127.0.0.1:1");
    REQUIRE(refused);
    CHECK(refused->ec == boost::system::errc::connection_refused);
}
