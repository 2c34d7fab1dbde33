// SgTransport's data path against FakeSgDevice (the sg driver's write/read protocol on a
// socket pair): identity at open, data round trips, at most 16 commands outstanding with
// the rest queued, completions out of order, host-byte and sense outcomes, and a device
// that vanishes with commands in flight.
#include <csignal>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "tests/support/run_until.hpp"
#include "tests/unit/transports/sg/fake_sg_device.hpp"
#include "tests/unit/transports/sg/fixed_sense.hpp"
#include "transports/sg/sg_reply.hpp"
#include "transports/sg/sg_transport.hpp"

using namespace mpiod;
using mpiod::test::FakeSgDevice;
using mpiod::test::run_until;

namespace {

constexpr std::uint8_t write16 = 0x8a;
constexpr std::uint8_t read16 = 0x88;

struct Bench {
    boost::asio::io_context io;
    FakeSgDevice device{io};
    std::unique_ptr<SgTransport> transport;
    TransportInfo info;

    Bench() {
        SgTransportOptions opts;
        opts.open_device = [this](const std::string&, std::string& why) {
            return device.take_transport_end(why);
        };
        transport = std::make_unique<SgTransport>(io.get_executor(), "/dev/sg-fake", opts);
        std::optional<boost::system::error_code> opened;
        transport->async_open([&](boost::system::error_code ec, TransportInfo i) {
            opened = ec;
            info = i;
        });
        REQUIRE(run_until(io, [&] { return opened.has_value(); }));
        REQUIRE_FALSE(*opened);
    }

    /// Submits and returns a slot its result lands in.
    std::shared_ptr<std::optional<IoResult>> submit(IoOp op, std::uint64_t offset,
                                                    std::uint32_t length, IoBuffer data) {
        auto result = std::make_shared<std::optional<IoResult>>();
        IoRequest r;
        r.op = op;
        r.offset = offset;
        r.length = length;
        r.data = std::move(data);
        transport->submit(std::move(r), [result](IoResult res) { *result = res; });
        return result;
    }

    IoResult wait(const std::shared_ptr<std::optional<IoResult>>& slot) {
        REQUIRE(run_until(io, [&] { return slot->has_value(); }));
        return **slot;
    }
};

IoBuffer pattern(std::uint32_t bytes, std::uint8_t seed) {
    IoBuffer b = make_io_buffer(bytes);
    for (std::uint32_t i = 0; i < bytes; ++i) {
        b[i] = static_cast<std::byte>((i * 7 + seed) & 0xff);
    }
    return b;
}

} // namespace

TEST_CASE("an sg path opens with the identity the device reports", "[sg]") {
    Bench b;
    CHECK(b.transport->is_open());
    CHECK_FALSE(b.info.wwid.empty());
    CHECK(b.info.wwid == b.transport->identity().wwid);
    CHECK(b.info.size_bytes == 131072ull * 512);
    CHECK(b.info.can_fua);            // MODE SENSE: DPOFUA
    CHECK(b.device.count(0x12) >= 4); // standard INQUIRY and the VPD pages
}

TEST_CASE("data written through an sg path reads back the same", "[sg]") {
    Bench b;
    IoBuffer out = pattern(64 * 1024, 3);
    CHECK(b.wait(b.submit(IoOp::write, 1 << 20, 64 * 1024, out)).ok());
    CHECK(std::memcmp(b.device.disk().data() + (1 << 20), out.get(), 64 * 1024) == 0);
    IoBuffer in = make_io_buffer(64 * 1024);
    CHECK(b.wait(b.submit(IoOp::read, 1 << 20, 64 * 1024, in)).ok());
    CHECK(std::memcmp(in.get(), out.get(), 64 * 1024) == 0);
    CHECK(b.wait(b.submit(IoOp::flush, 0, 0, nullptr)).ok());
    CHECK(b.device.count(0x91) == 1);
}

TEST_CASE("at most 16 commands are outstanding on a descriptor; the rest wait their turn", "[sg]") {
    Bench b;
    b.device.hold(true);
    std::vector<std::shared_ptr<std::optional<IoResult>>> slots;
    for (int i = 0; i < 40; ++i) {
        slots.push_back(b.submit(IoOp::write, static_cast<std::uint64_t>(i) * 4096, 4096,
                                 pattern(4096, static_cast<std::uint8_t>(i))));
    }
    auto all_done = [&] {
        for (const auto& s : slots) {
            if (!s->has_value()) {
                return false;
            }
        }
        return true;
    };
    REQUIRE(run_until(b.io, [&] { return b.device.outstanding() == 16; }));
    CHECK(b.transport->outstanding() == 16);
    CHECK(b.device.received() - b.device.count(0x12) - b.device.count(0x9e) - b.device.count(0x1a) -
              b.device.count(0x00) ==
          16);
    // Completions come back newest first; each batch lets the next 16 (then 8) in.
    while (!all_done()) {
        b.device.release();
        REQUIRE(run_until(b.io, [&] { return b.device.outstanding() > 0 || all_done(); }));
    }
    CHECK(b.device.max_outstanding() == 16);
    CHECK(b.device.count(write16) == 40);
    for (std::size_t i = 0; i < slots.size(); ++i) {
        CAPTURE(i);
        CHECK((*slots[i])->ok());
        IoBuffer expected = pattern(4096, static_cast<std::uint8_t>(i));
        CHECK(std::memcmp(b.device.disk().data() + i * 4096, expected.get(), 4096) == 0);
    }
}

TEST_CASE("host bytes decide between path error, same-path retry and timeout", "[sg]") {
    Bench b;
    SECTION("DID_NO_CONNECT (device offline) is a path error, not retried") {
        b.device.inject({write16, sg::host_status::no_connect, 0, {}});
        IoResult r = b.wait(b.submit(IoOp::write, 0, 4096, pattern(4096, 1)));
        CHECK(r.status == IoStatus::path_error);
        CHECK(b.device.count(write16) == 1);
    }
    SECTION("DID_BUS_BUSY is retried on the same path and then succeeds") {
        b.device.inject({read16, sg::host_status::bus_busy, 0, {}});
        IoResult r = b.wait(b.submit(IoOp::read, 0, 4096, make_io_buffer(4096)));
        CHECK(r.ok());
        CHECK(b.device.count(read16) == 2);
    }
    SECTION("DID_TIME_OUT times out and drops the descriptor (fencing)") {
        b.device.inject({write16, sg::host_status::time_out, 0, {}});
        IoResult r = b.wait(b.submit(IoOp::write, 0, 4096, pattern(4096, 2)));
        CHECK(r.status == IoStatus::timed_out);
        CHECK_FALSE(b.transport->is_open());
    }
    SECTION("UNIT ATTENTION is retried; MEDIUM ERROR goes to the client as EIO") {
        const auto ua = test::fixed_sense(0x06, 0x29, 0x00);
        const auto medium = test::fixed_sense(0x03, 0x11, 0x00);
        b.device.inject({read16, 0, 0x02, ua});
        CHECK(b.wait(b.submit(IoOp::read, 0, 4096, make_io_buffer(4096))).ok());
        b.device.inject({read16, 0, 0x02, medium});
        IoResult r = b.wait(b.submit(IoOp::read, 0, 4096, make_io_buffer(4096)));
        CHECK(r.status == IoStatus::target_error);
        CHECK(r.error == EIO);
        CHECK(b.transport->is_open());
    }
}

TEST_CASE("a device that vanishes fails every outstanding and queued command at once", "[sg]") {
    Bench b;
    b.device.hold(true);
    std::vector<std::shared_ptr<std::optional<IoResult>>> slots;
    for (int i = 0; i < 20; ++i) {
        slots.push_back(
            b.submit(IoOp::read, static_cast<std::uint64_t>(i) * 4096, 4096, make_io_buffer(4096)));
    }
    REQUIRE(run_until(b.io, [&] { return b.device.outstanding() == 16; }));
    b.device.vanish();
    REQUIRE(run_until(b.io, [&] {
        for (const auto& s : slots) {
            if (!s->has_value()) {
                return false;
            }
        }
        return true;
    }));
    for (const auto& s : slots) {
        CHECK((*s)->status == IoStatus::path_error);
    }
    CHECK_FALSE(b.transport->is_open());
    // A closed path answers new I/O with a path error too.
    CHECK(b.wait(b.submit(IoOp::read, 0, 4096, make_io_buffer(4096))).status ==
          IoStatus::path_error);
}
