// The NBD server against hand-made traffic: malformed, legacy and hostile clients that libnbd
// would never produce.
#include <atomic>
#include <cerrno>

#include <sys/socket.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <catch2/catch.hpp>

#include "tests/unit/exports/nbd/nbd_test_fixture.hpp"

using namespace mpiod;
using namespace mpiod::test;

namespace {

constexpr std::uint32_t opt_export_name = 1;
constexpr std::uint32_t opt_abort = 2;
constexpr std::uint32_t opt_starttls = 5;
constexpr std::uint32_t opt_go = 7;
constexpr std::uint32_t rep_ack = 1;
constexpr std::uint32_t rep_err_unsup = 0x80000001;
constexpr std::uint32_t rep_err_invalid = 0x80000003;
constexpr std::uint32_t rep_err_too_big = 0x80000009;
constexpr std::uint16_t cmd_read = 0;
constexpr std::uint16_t cmd_write = 1;
constexpr std::uint16_t cmd_disc = 2;
constexpr std::uint16_t cmd_trim = 4;
constexpr std::uint16_t cmd_block_status = 7;
constexpr std::uint32_t reply_magic = 0x67446698;

/// A raw client in the transmission phase of `s`.
std::unique_ptr<RawClient> transmitting(UnixServer& s) {
    auto c = std::make_unique<RawClient>(s.path);
    c->greet();
    c->go();
    return c;
}

void expect_read_works(RawClient& c, std::uint64_t cookie) {
    c.send_request(0, cmd_read, cookie, 0, 512);
    const auto r = c.read_reply();
    REQUIRE(r.magic == reply_magic);
    REQUIRE(r.error == 0);
    REQUIRE(r.cookie == cookie);
    c.recv(512);
}

} // namespace

TEST_CASE("A bad request magic closes that connection while another keeps working") {
    UnixServer s;
    auto good = transmitting(s);
    auto bad = transmitting(s);
    bad->send(Bytes().u32(0xdeadbeef).u16(0).u16(0).u64(1).u64(0).u32(512));
    CHECK(bad->closed_by_peer());
    expect_read_works(*good, 42);
    CHECK(s.st.wait_until([&] { return s.st.server().connection_count() == 1; }));
}

TEST_CASE("Unknown options get ERR_UNSUP and GO still works afterwards") {
    UnixServer s;
    RawClient c(s.path);
    c.greet();
    for (std::uint32_t option : {opt_starttls, 11u /* extended headers */, 4242u}) {
        c.send_option(option, Bytes().str("junk"));
        const auto r = c.read_option_reply();
        CHECK(r.magic == 0x3e889045565a9);
        CHECK(r.option == option);
        CHECK(r.type == rep_err_unsup);
    }
    const auto [size, flags] = c.go();
    CHECK(size == 1u << 20);
    CHECK((flags & 1) == 1);
    expect_read_works(c, 1);
}

TEST_CASE("A malformed GO gets ERR_INVALID and negotiation continues") {
    UnixServer s;
    RawClient c(s.path);
    c.greet();
    c.send_option(opt_go, Bytes().u32(100).str("short")); // name length beyond the data
    CHECK(c.read_option_reply().type == rep_err_invalid);
    c.go();
    expect_read_works(c, 1);
}

TEST_CASE("Option data over the limit gets ERR_TOO_BIG; far over it closes the connection") {
    UnixServer s;
    {
        RawClient c(s.path);
        c.greet();
        c.send_option(opt_go, Bytes().raw(std::vector<std::byte>(100u << 10)));
        CHECK(c.read_option_reply().type == rep_err_too_big);
        c.go();
        expect_read_works(c, 1);
    }
    RawClient huge(s.path);
    huge.greet();
    huge.send(Bytes().u64(0x49484156454f5054).u32(opt_go).u32(64u << 20));
    CHECK(huge.closed_by_peer());
}

TEST_CASE("NBD_OPT_ABORT is acknowledged and the connection closes") {
    UnixServer s;
    RawClient c(s.path);
    c.greet();
    c.send_option(opt_abort);
    const auto r = c.read_option_reply();
    CHECK(r.option == opt_abort);
    CHECK(r.type == rep_ack);
    CHECK(c.closed_by_peer());
}

TEST_CASE("Unknown client flags close the connection") {
    UnixServer s;
    RawClient c(s.path);
    c.greet(0x80000001);
    CHECK(c.closed_by_peer());
}

TEST_CASE("NBD_OPT_EXPORT_NAME enters transmission with the legacy reply") {
    UnixServer s;
    SECTION("with NO_ZEROES the reply is size and flags only") {
        RawClient c(s.path);
        const auto server_flags = c.greet(3);
        CHECK(server_flags == 3); // FIXED_NEWSTYLE | NO_ZEROES
        c.send_option(opt_export_name, Bytes().str("whatever"));
        const auto reply = c.recv(10);
        CHECK(be64(reply.data()) == 1u << 20);
        CHECK((be16(reply.data() + 8) & 1) == 1);
        expect_read_works(c, 5);
    }
    SECTION("without NO_ZEROES 124 zero bytes follow") {
        RawClient c(s.path);
        c.greet(1);
        c.send_option(opt_export_name);
        const auto reply = c.recv(10 + 124);
        CHECK(be64(reply.data()) == 1u << 20);
        CHECK(std::all_of(reply.begin() + 10, reply.end(),
                          [](std::byte b) { return b == std::byte{0}; }));
        expect_read_works(c, 6);
    }
}

TEST_CASE("A WRITE above the maximum payload gets EINVAL and the next request works") {
    UnixServer s;
    auto c = transmitting(s);
    const std::uint32_t len = (1u << 20) + 4096; // max_request is 1 MiB
    std::vector<std::byte> payload(len, std::byte{0x5a});
    c->send_request(0, cmd_write, 77, 0, len, payload);
    const auto r = c->read_reply();
    CHECK(r.cookie == 77);
    CHECK(r.error == EINVAL);
    expect_read_works(*c, 78);
    CHECK(s.st.on_io([&] { return s.target->count(IoOp::write); }) == 0);
}

TEST_CASE("A refused WRITE with a payload too large to skip closes the connection") {
    UnixServer s;
    auto c = transmitting(s);
    c->send_request(0, cmd_write, 1, 0, 100u << 20); // payload never sent
    CHECK(c->closed_by_peer());
}

TEST_CASE("Unknown commands, unadvertised commands and unknown flags get EINVAL") {
    ExportInfo info = test_export_info();
    info.can_trim = false;
    UnixServer s(info);
    auto c = transmitting(s);
    c->send_request(0, cmd_trim, 1, 0, 512);
    c->send_request(0, cmd_block_status, 2, 0, 512); // no meta context negotiated
    c->send_request(0, 99, 3, 0, 512);
    c->send_request(1u << 7, cmd_read, 4, 0, 512);
    c->send_request(1u << 2, cmd_read, 5, 0, 512); // DF without structured replies
    c->send_request(0, cmd_read, 6, 0, 0);         // zero-length read
    for (std::uint64_t cookie = 1; cookie <= 6; ++cookie) {
        const auto r = c->read_reply();
        CHECK(r.cookie == cookie);
        CHECK(r.error == EINVAL);
    }
    expect_read_works(*c, 7);
    CHECK(s.st.on_io([&] { return s.target->requests_seen(); }) == 1);
}

TEST_CASE("A large WRITE split across many socket reads arrives whole") {
    UnixServer s;
    auto c = transmitting(s);
    std::vector<std::byte> payload(768u << 10);
    for (std::size_t i = 0; i < payload.size(); ++i) {
        payload[i] = static_cast<std::byte>(i * 13 + (i >> 12));
    }
    c->send_request(0, cmd_write, 1, 4096, static_cast<std::uint32_t>(payload.size()), payload);
    CHECK(c->read_reply().error == 0);
    c->send_request(0, cmd_read, 2, 4096, static_cast<std::uint32_t>(payload.size()));
    const auto r = c->read_reply();
    REQUIRE(r.error == 0);
    CHECK(c->recv(payload.size()) == payload);
}

TEST_CASE("NBD_CMD_DISC answers the requests in flight, then closes") {
    UnixServer s;
    auto c = transmitting(s);
    s.st.on_io([&] { s.target->set_hold(true); });
    c->send_request(0, cmd_read, 10, 0, 4096);
    c->send_request(0, cmd_disc, 11, 0, 0);
    REQUIRE(s.st.wait_until([&] { return s.target->held_count() == 1; }));
    s.st.on_io([&] { s.target->release_held(); });
    const auto r = c->read_reply();
    CHECK(r.cookie == 10);
    CHECK(r.error == 0);
    c->recv(4096);
    CHECK(c->closed_by_peer());
}

TEST_CASE("A client pipelining without reading replies is held to the in-flight cap") {
    UnixServer s;
    auto c = transmitting(s);
    s.st.on_io([&] { s.target->set_hold(true); });
    constexpr int total = 600;
    Bytes requests;
    for (int i = 0; i < total; ++i) {
        requests.u32(0x25609513).u16(0).u16(cmd_read).u64(i).u64(0).u32(4096);
    }
    c->send(requests);
    REQUIRE(s.st.wait_until([&] { return s.target->held_count() == 256; }));

    int answered = 0;
    while (answered < total) {
        const auto released = s.st.on_io([&] {
            const auto n = s.target->held_count();
            s.target->release_held();
            return n;
        });
        REQUIRE(released > 0);
        for (std::size_t i = 0; i < released; ++i) {
            const auto r = c->read_reply();
            REQUIRE(r.error == 0);
            c->recv(4096);
            ++answered;
        }
        if (answered < total) {
            REQUIRE(s.st.wait_until([&] { return s.target->held_count() > 0; }));
        }
    }
    CHECK(s.st.on_io([&] { return s.target->peak_outstanding(); }) == 256);
}

TEST_CASE("A client that never finishes the handshake is disconnected") {
    NbdLimits limits;
    limits.handshake_timeout = std::chrono::milliseconds(200);
    UnixServer s(test_export_info(), limits);
    RawClient c(s.path);
    c.greet();
    CHECK(c.closed_by_peer());
    CHECK(s.st.wait_until([&] { return s.st.server().connection_count() == 0; }));
}

TEST_CASE("serve_transmission serves a socketpair without a handshake") {
    ServerThread st;
    auto target = st.make_target("lu1", test_export_info());
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    st.on_io([&] {
        boost::asio::local::stream_protocol::socket s(
            st.io(), boost::asio::local::stream_protocol(), fds[0]);
        st.server().serve_transmission(std::move(s), target);
    });
    RawClient c(fds[1]);
    std::vector<std::byte> data(4096, std::byte{0x33});
    c.send_request(1, cmd_write, 1, 8192, 4096, data); // FUA
    const auto w = c.read_reply();
    CHECK(w.cookie == 1);
    CHECK(w.error == 0);
    c.send_request(0, cmd_read, 2, 8192, 4096);
    CHECK(c.read_reply().error == 0);
    CHECK(c.recv(4096) == data);
}

TEST_CASE("close_when_idle answers the requests in flight first, then shuts the socket") {
    UnixServer s;
    auto c = transmitting(s);
    s.st.on_io([&] { s.target->set_hold(true); });
    c->send_request(0, cmd_read, 20, 0, 4096);
    REQUIRE(s.st.wait_until([&] { return s.target->held_count() == 1; }));
    s.st.on_io([&] { s.st.server().close_when_idle(); });
    // Busy: the connection stays while its request is unanswered.
    REQUIRE(s.st.wait_until([&] { return s.st.server().connection_count() == 1; }));
    s.st.on_io([&] { s.target->release_held(); });
    const auto r = c->read_reply();
    CHECK(r.cookie == 20);
    CHECK(r.error == 0);
    c->recv(4096);
    CHECK(c->closed_by_peer());
    REQUIRE(s.st.wait_until([&] { return s.st.server().connection_count() == 0; }));
}

TEST_CASE("close_when_idle closes an idle connection at once, and new clients are refused") {
    UnixServer s;
    auto c = transmitting(s);
    expect_read_works(*c, 30);
    s.st.on_io([&] { s.st.server().close_when_idle(); });
    CHECK(c->closed_by_peer());
    REQUIRE(s.st.wait_until([&] { return s.st.server().connection_count() == 0; }));
    CHECK_THROWS(RawClient(s.path));
}

TEST_CASE("async_wait_all_closed fires when the last busy connection closes, not before") {
    UnixServer s;
    auto c = transmitting(s);
    std::atomic<int> fired{0};
    s.st.on_io([&] { s.target->set_hold(true); });
    c->send_request(0, cmd_read, 40, 0, 4096);
    REQUIRE(s.st.wait_until([&] { return s.target->held_count() == 1; }));
    s.st.on_io([&] {
        s.st.server().close_when_idle();
        s.st.server().async_wait_all_closed([&] { ++fired; });
    });
    // A round trip through the executor: anything posted before it has run.
    s.st.on_io([] {});
    CHECK(fired == 0);
    CHECK(s.st.on_io([&] { return s.st.server().connection_count(); }) == 1);
    s.st.on_io([&] { s.target->release_held(); });
    CHECK(c->read_reply().cookie == 40);
    c->recv(4096);
    REQUIRE(s.st.wait_until([&] { return fired == 1; }));
    CHECK(s.st.on_io([&] { return s.st.server().connection_count(); }) == 0);
}

TEST_CASE("async_wait_all_closed with no connection fires at once") {
    UnixServer s;
    std::atomic<int> fired{0};
    s.st.on_io([&] { s.st.server().async_wait_all_closed([&] { ++fired; }); });
    REQUIRE(s.st.wait_until([&] { return fired == 1; }));
}
