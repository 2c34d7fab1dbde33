// Block status through an NBD path: asked over a connection of its own (structured replies
// and base:allocation there, simple replies for the path's reads and writes), and answered
// "all data" where the server cannot tell or that connection is lost.
#include <cstdint>
#include <memory>

#include <catch2/catch.hpp>

#include "core/block_status.hpp"
#include "tests/integration/transports/nbd/nbd_transport_fixture.hpp"

using namespace mpiod;
using namespace mpiod::test;

namespace {

IoRequest status_request(std::uint64_t offset, std::uint32_t length) {
    IoRequest r = op_request(IoOp::block_status, offset, length);
    r.extents = std::make_shared<BlockExtents>();
    return r;
}

constexpr std::uint32_t mib = 1u << 20;

} // namespace

TEST_CASE("block status reports the server's holes and data, and reads and writes still work",
          "[nbd][block_status]") {
    REQUIRE_NBDKIT();
    NbdkitProcess server(memory_server("16M"));
    TransportHarness h;
    auto t = open_or_fail(h, server.uri());

    const auto data = pattern(mib, 7);
    auto w = h.run(*t, write_request(mib, data));
    REQUIRE(w);
    REQUIRE(w->ok());

    auto req = status_request(0, 4 * mib);
    auto extents = req.extents;
    auto r = h.run(*t, std::move(req));
    REQUIRE(r);
    REQUIRE(r->ok());
    CHECK(t->status_connection_open());
    normalize_extents(*extents, 4 * mib);
    REQUIRE(extents->size() == 3);
    CHECK((*extents)[0].length == mib);
    CHECK((*extents)[0].hole);
    CHECK((*extents)[1].length == mib);
    CHECK_FALSE((*extents)[1].hole);
    CHECK((*extents)[2].hole);

    // The path's own connection goes on carrying data after the status connection opened.
    auto rd = read_request(mib, 4096);
    auto buf = rd.data;
    auto rr = h.run(*t, std::move(rd));
    REQUIRE(rr);
    CHECK(rr->ok());
    CHECK(bytes_of(buf, 4096) == std::vector<std::byte>(data.begin(), data.begin() + 4096));
}

TEST_CASE("a server without structured replies answers block status \"all data\"",
          "[nbd][block_status]") {
    REQUIRE_NBDKIT();
    NbdkitConfig config = memory_server("16M");
    config.options = {"--no-sr"}; // no structured replies: no meta context either
    NbdkitProcess server(config);
    TransportHarness h;
    auto t = open_or_fail(h, server.uri());

    for (int i = 0; i < 2; ++i) { // the first opens the status connection, the second not
        auto req = status_request(0, 4 * mib);
        auto extents = req.extents;
        auto r = h.run(*t, std::move(req));
        REQUIRE(r);
        CHECK(r->ok());
        CHECK(*extents == all_data(4 * mib));
    }
    CHECK(t->is_open());
    CHECK_FALSE(t->status_connection_open());
}

TEST_CASE("block status in flight when the path closes completes \"all data\", exactly once",
          "[nbd][block_status]") {
    REQUIRE_NBDKIT();
    NbdkitProcess server(with_filters(memory_server("16M"), {"delay"}, {"delay-extents=5"}));
    TransportHarness h;
    auto t = open_or_fail(h, server.uri());

    IoTally tally(3);
    std::vector<BlockExtentsPtr> extents;
    for (std::size_t i = 0; i < tally.size(); ++i) {
        auto req = status_request(i * mib, mib);
        extents.push_back(req.extents);
        t->submit(std::move(req), tally.completion(i));
    }
    // Once the status connection is open the three are on the wire, held by the delay.
    REQUIRE(h.wait([&] { return t->status_connection_open(); }));
    CHECK(tally.completed() == 0);
    t->close();
    REQUIRE(h.wait([&] { return tally.all_completed(); }));
    h.settle();
    CHECK(tally.each_exactly_once());
    for (std::size_t i = 0; i < tally.size(); ++i) {
        CHECK(tally.result(i).ok());
        CHECK(*extents[i] == all_data(mib));
    }
}
