// Several large writes in flight at once: their payloads exceed the socket buffer, so
// libnbd sends them across many wakeups while replies arrive in between. A stale read
// wakeup must not park libnbd waiting for a reply to a write it has not finished sending.
#include <vector>

#include <catch2/catch.hpp>

#include "tests/integration/transports/nbd/nbd_transport_fixture.hpp"

using namespace mpiod;
using namespace mpiod::test;

TEST_CASE("eight 1 MiB writes in flight at once all complete and read back", "[nbd][io]") {
    REQUIRE_NBDKIT();
    NbdkitProcess server(memory_server("64M"));
    TransportHarness h;
    auto t = open_or_fail(h, server.uri());

    constexpr std::size_t n = 8;
    constexpr std::uint32_t mib = 1u << 20;
    for (int round = 0; round < 4; ++round) {
        INFO("round " << round);
        std::vector<std::vector<std::byte>> data;
        IoTally writes(n);
        for (std::size_t i = 0; i < n; ++i) {
            data.push_back(pattern(mib, static_cast<std::uint32_t>(round * n + i)));
            t->submit(write_request(i * mib, data.back()), writes.completion(i));
        }
        REQUIRE(h.wait([&] { return writes.all_completed(); }));
        CHECK(writes.each_exactly_once());
        CHECK(writes.count(IoStatus::ok) == n);

        IoTally reads(n);
        std::vector<IoBuffer> bufs;
        for (std::size_t i = 0; i < n; ++i) {
            auto rd = read_request(i * mib, mib);
            bufs.push_back(rd.data);
            t->submit(std::move(rd), reads.completion(i));
        }
        REQUIRE(h.wait([&] { return reads.all_completed(); }));
        for (std::size_t i = 0; i < n; ++i) {
            CHECK(std::equal(data[i].begin(), data[i].end(), bufs[i].get()));
        }
    }
}
