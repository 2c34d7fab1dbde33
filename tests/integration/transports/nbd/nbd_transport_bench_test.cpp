// A rough throughput figure, not a pass/fail test: hidden from the default run.
// Run with: nbd_transport_integration_tests "[.bench]" -s
#include <chrono>

#include <catch2/catch.hpp>

#include "tests/integration/transports/nbd/nbd_transport_fixture.hpp"

using namespace mpiod;
using namespace mpiod::test;

TEST_CASE("4 KiB reads per second at 128 in flight against nbdkit memory", "[.bench][nbd]") {
    REQUIRE_NBDKIT();
    NbdkitProcess server(memory_server("1G"));
    TransportHarness h;
    auto t = h.make(server.uri());
    auto out = h.open(*t);
    REQUIRE(out);
    REQUIRE_FALSE(out->ec);

    constexpr std::uint32_t depth = 128;
    constexpr std::uint64_t blocks = (1u << 30) / 4096;
    std::uint64_t completed = 0;
    std::uint64_t failed = 0;
    std::uint64_t next = 0;
    bool stopping = false;
    std::function<void()> submit_one = [&] {
        IoRequest r = read_request((next++ * 7919 % blocks) * 4096, 4096);
        t->submit(std::move(r), [&](IoResult res) {
            ++completed;
            failed += res.ok() ? 0 : 1;
            if (!stopping) {
                submit_one();
            }
        });
    };
    for (std::uint32_t i = 0; i < depth; ++i) {
        submit_one();
    }
    auto start = std::chrono::steady_clock::now();
    auto secs = std::chrono::seconds(3);
    h.wait([&] { return std::chrono::steady_clock::now() - start >= secs; }, secs * 2);
    stopping = true;
    auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start);
    std::uint64_t done_in_window = completed;
    h.wait([&] { return t->in_flight() == 0 && t->queued() == 0; });
    WARN("4 KiB reads/s at depth 128: "
         << static_cast<std::uint64_t>(static_cast<double>(done_in_window) / elapsed.count())
         << " (" << done_in_window << " in " << elapsed.count() << " s, " << failed << " failed)");
    CHECK(failed == 0);
}
