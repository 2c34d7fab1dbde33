// Opening NBD paths against real nbdkit servers: what they report, and how opens fail.
#include <cerrno>
#include <string>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/error.hpp>
#include <catch2/catch.hpp>

#include "tests/integration/transports/nbd/nbd_transport_fixture.hpp"

using namespace mpiod;
using namespace mpiod::test;

TEST_CASE("opening a file-backed server reports its size and flush, FUA and trim support",
          "[nbd][open]") {
    REQUIRE_NBDKIT();
    ScratchDir scratch;
    auto image = scratch.make_file("disk.img", 16u << 20);
    NbdkitProcess server(file_server(image));
    TransportHarness h;
    auto t = h.make(server.uri());
    CHECK(t->kind() == "nbd");
    CHECK(t->describe() == server.uri());
    CHECK_FALSE(t->is_open());

    bool called = false;
    std::optional<OpenOutcome> out;
    t->async_open([&](boost::system::error_code ec, TransportInfo info) {
        called = true;
        out = OpenOutcome{ec, info};
    });
    CHECK_FALSE(called); // never from inside async_open
    REQUIRE(h.wait([&] { return called; }));

    REQUIRE_FALSE(out->ec);
    CHECK(t->is_open());
    const TransportInfo& info = out->info;
    CHECK(info.size_bytes == (16u << 20));
    CHECK_FALSE(info.read_only);
    CHECK(info.can_flush);
    CHECK(info.can_fua);
    CHECK(info.can_trim);
    CHECK(info.can_multi_conn);
    CHECK(info.wwid.empty());
    // nbdkit's file plugin advertises no block sizes: the defaults apply.
    CHECK(info.min_block == 1);
    CHECK(info.preferred_block == 4096);
    CHECK(info.max_request == (32u << 20));
}

TEST_CASE("opening a read-only server reports read_only", "[nbd][open]") {
    REQUIRE_NBDKIT();
    auto config = memory_server("8M");
    config.read_only = true;
    NbdkitProcess server(config);
    TransportHarness h;
    auto t = h.make(server.uri());
    auto out = h.open(*t);
    REQUIRE(out);
    REQUIRE_FALSE(out->ec);
    CHECK(out->info.read_only);
    CHECK(out->info.size_bytes == (8u << 20));
}

TEST_CASE("advertised block sizes are reported and the maximum request is capped at 32 MiB",
          "[nbd][open]") {
    REQUIRE_NBDKIT();
    NbdkitProcess server(with_filters(
        memory_server("64M"), {"blocksize-policy"},
        {"blocksize-minimum=512", "blocksize-preferred=65536", "blocksize-maximum=64M"}));
    TransportHarness h;
    auto t = h.make(server.uri());
    auto out = h.open(*t);
    REQUIRE(out);
    REQUIRE_FALSE(out->ec);
    CHECK(out->info.min_block == 512);
    CHECK(out->info.preferred_block == 65536);
    CHECK(out->info.max_request == (32u << 20));
}

TEST_CASE("opening a socket nobody listens on fails and leaves the transport closed",
          "[nbd][open]") {
    ScratchDir scratch;
    TransportHarness h;
    auto t = h.make("nbd+unix:///?socket=" + (scratch.path() / "absent.sock").string());
    auto out = h.open(*t);
    REQUIRE(out);
    CHECK(out->ec);
    CHECK_FALSE(t->is_open());
}

TEST_CASE("a malformed URI fails the open with an error", "[nbd][open]") {
    TransportHarness h;
    auto t = h.make("nbd+unix:///?no-socket-given");
    auto out = h.open(*t);
    REQUIRE(out);
    CHECK(out->ec);
    CHECK_FALSE(t->is_open());
}

TEST_CASE("a server that never answers the handshake fails the open after connect_timeout",
          "[nbd][open]") {
    ScratchDir scratch;
    // A listening socket nobody accepts on: connect() succeeds through the backlog, and the
    // server's greeting never comes.
    std::string path = (scratch.path() / "silent.sock").string();
    int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(listener >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, sizeof addr.sun_path - 1);
    REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listener, 4) == 0);

    TransportHarness h;
    auto t = h.make("nbd+unix:///?socket=" + path,
                    NbdTransportOptions{.connect_timeout = std::chrono::milliseconds(200)});
    auto started = std::chrono::steady_clock::now();
    auto out = h.open(*t);
    auto took = std::chrono::steady_clock::now() - started;
    ::close(listener);
    REQUIRE(out);
    CHECK(out->ec == boost::asio::error::timed_out);
    CHECK(took >= std::chrono::milliseconds(200));
    CHECK_FALSE(t->is_open());
}

TEST_CASE("async_open on an open transport fails with already_open and keeps it open",
          "[nbd][open]") {
    REQUIRE_NBDKIT();
    NbdkitProcess server(memory_server("8M"));
    TransportHarness h;
    auto t = h.make(server.uri());
    auto first = h.open(*t);
    REQUIRE(first);
    REQUIRE_FALSE(first->ec);
    auto second = h.open(*t);
    REQUIRE(second);
    CHECK(second->ec == boost::asio::error::already_open);
    CHECK(t->is_open());
    auto r = h.run(*t, read_request(0, 4096));
    REQUIRE(r);
    CHECK(r->ok());
}

TEST_CASE("close() during an open completes the open with operation_aborted", "[nbd][open]") {
    REQUIRE_NBDKIT();
    NbdkitProcess server(memory_server("8M"));
    TransportHarness h;
    auto t = h.make(server.uri());
    int calls = 0;
    boost::system::error_code got;
    t->async_open([&](boost::system::error_code ec, TransportInfo) {
        ++calls;
        got = ec;
    });
    t->close();
    REQUIRE(h.wait([&] { return calls > 0; }));
    h.settle();
    CHECK(calls == 1);
    CHECK(got == boost::asio::error::operation_aborted);
    CHECK_FALSE(t->is_open());
}

TEST_CASE("a closed transport opens again with a fresh connection", "[nbd][open]") {
    REQUIRE_NBDKIT();
    NbdkitProcess server(memory_server("8M"));
    TransportHarness h;
    auto t = h.make(server.uri());
    for (int round = 0; round < 3; ++round) {
        INFO("round " << round);
        auto out = h.open(*t);
        REQUIRE(out);
        REQUIRE_FALSE(out->ec);
        auto data = pattern(4096, round);
        auto w = h.run(*t, write_request(8192, data));
        REQUIRE(w);
        CHECK(w->ok());
        auto rd = read_request(8192, 4096);
        auto buf = rd.data;
        auto r = h.run(*t, std::move(rd));
        REQUIRE(r);
        CHECK(r->ok());
        CHECK(bytes_of(buf, 4096) == data);
        t->close();
        t->close(); // idempotent
        CHECK_FALSE(t->is_open());
    }
}
