// Path failures against real nbdkit servers: a killed server, close() and destruction with
// I/O in flight, a hung (paused) server, and reconnecting afterwards.
#include <cerrno>
#include <chrono>
#include <fstream>
#include <iterator>
#include <string>

#include <catch2/catch.hpp>

#include "tests/integration/transports/nbd/nbd_transport_fixture.hpp"

using namespace mpiod;
using namespace mpiod::test;

namespace {

NbdkitConfig pausable_memory_server() {
    auto c = memory_server("64M");
    c.filters = {"pause"};
    c.pause_control = true;
    return c;
}

void submit_reads(NbdTransport& t, IoTally& tally) {
    for (std::size_t i = 0; i < tally.size(); ++i) {
        t.submit(read_request(i * 4096, 4096), tally.completion(i));
    }
}

/// Runs the loop for `window` and reports whether anything completed meanwhile.
bool anything_completes_within(TransportHarness& h, const IoTally& tally,
                               std::chrono::milliseconds window) {
    return h.wait([&] { return tally.completed() > 0; }, window);
}

} // namespace

TEST_CASE("a paused server leaves requests in flight until it resumes", "[nbd][failure]") {
    REQUIRE_NBDKIT();
    NbdkitProcess server(pausable_memory_server());
    TransportHarness h;
    auto t = open_or_fail(h, server.uri());

    server.pause();
    IoTally tally(32);
    submit_reads(*t, tally);
    CHECK_FALSE(anything_completes_within(h, tally, std::chrono::milliseconds(300)));
    CHECK(t->in_flight() == 32);
    CHECK(t->is_open());

    server.resume();
    REQUIRE(h.wait([&] { return tally.all_completed(); }));
    h.settle();
    CHECK(tally.each_exactly_once());
    CHECK(tally.count(IoStatus::ok) == 32);
}

TEST_CASE("close() during a pause completes every request exactly once with a path error",
          "[nbd][failure]") {
    REQUIRE_NBDKIT();
    NbdkitProcess server(pausable_memory_server());
    TransportHarness h;
    auto t = open_or_fail(h, server.uri());

    server.pause();
    IoTally tally(32);
    submit_reads(*t, tally);
    CHECK_FALSE(anything_completes_within(h, tally, std::chrono::milliseconds(100)));
    t->close();
    CHECK(tally.completed() == 0); // delivered asynchronously, not from inside close()
    CHECK_FALSE(t->is_open());
    REQUIRE(h.wait([&] { return tally.all_completed(); }));
    h.settle();
    CHECK(tally.each_exactly_once());
    CHECK(tally.count(IoStatus::path_error) == 32);
    CHECK(tally.result(0).error == ENOTCONN);
}

TEST_CASE("close() with requests in flight and waiting completes each exactly once with a "
          "path error",
          "[nbd][failure]") {
    REQUIRE_NBDKIT();
    NbdkitProcess server(memory_server("64M"));
    TransportHarness h;
    auto t = open_or_fail(h, server.uri(), NbdTransportOptions{.max_in_flight = 128});

    // Submitted and closed without running the loop: no reply can have been processed, so
    // all 128 are in libnbd's hands and 72 wait in the transport.
    IoTally tally(200);
    submit_reads(*t, tally);
    CHECK(t->in_flight() == 128);
    CHECK(t->queued() == 72);
    t->close();
    CHECK(t->in_flight() == 0);
    CHECK(t->queued() == 0);
    CHECK(tally.completed() == 0);
    REQUIRE(h.wait([&] { return tally.all_completed(); }));
    h.settle();
    CHECK(tally.each_exactly_once());
    CHECK(tally.count(IoStatus::path_error) == 200);
}

TEST_CASE("destroying the transport with requests in flight completes each exactly once "
          "with a path error",
          "[nbd][failure]") {
    REQUIRE_NBDKIT();
    NbdkitProcess server(pausable_memory_server());
    TransportHarness h;
    auto t = open_or_fail(h, server.uri(), NbdTransportOptions{.max_in_flight = 8});

    server.pause();
    IoTally tally(16);
    submit_reads(*t, tally);
    t.reset();
    REQUIRE(h.wait([&] { return tally.all_completed(); }));
    h.settle();
    CHECK(tally.each_exactly_once());
    CHECK(tally.count(IoStatus::path_error) == 16);
}

TEST_CASE("a killed server fails every request in flight exactly once with a path error, "
          "and the path reconnects once a new server listens",
          "[nbd][failure]") {
    REQUIRE_NBDKIT();
    NbdkitProcess server(pausable_memory_server());
    TransportHarness h;
    auto t = open_or_fail(h, server.uri());

    // Paused, so no reply is on its way when the server dies: all 128 are truly in flight.
    server.pause();
    IoTally tally(128);
    submit_reads(*t, tally);
    CHECK(t->in_flight() == 128);
    server.kill(SIGKILL);

    REQUIRE(h.wait([&] { return tally.all_completed(); }));
    h.settle();
    CHECK(tally.each_exactly_once());
    CHECK(tally.count(IoStatus::path_error) == 128);
    CHECK_FALSE(t->is_open()); // the transport noticed the dead connection itself
    CHECK(t->in_flight() == 0);

    // A request after the death fails the same way, without reaching anything.
    auto late = h.run(*t, read_request(0, 4096));
    REQUIRE(late);
    CHECK(late->status == IoStatus::path_error);

    t->close(); // what the engine does before reinstating; harmless when already closed
    auto down = h.open(*t);
    REQUIRE(down);
    CHECK(down->ec);
    CHECK_FALSE(t->is_open());

    server.start(); // same socket path, fresh server (fresh, empty memory disk)
    auto up = h.open(*t);
    REQUIRE(up);
    REQUIRE_FALSE(up->ec);
    CHECK(t->is_open());
    auto data = pattern(4096, 42);
    auto w = h.run(*t, write_request(4096, data));
    REQUIRE(w);
    CHECK(w->ok());
    auto rd = read_request(4096, 4096);
    auto buf = rd.data;
    auto r = h.run(*t, std::move(rd));
    REQUIRE(r);
    CHECK(r->ok());
    CHECK(bytes_of(buf, 4096) == data);
}

TEST_CASE("a server dying while the path is idle is noticed without any I/O", "[nbd][failure]") {
    REQUIRE_NBDKIT();
    NbdkitProcess server(memory_server("8M"));
    TransportHarness h;
    auto t = open_or_fail(h, server.uri());
    int lost = 0;
    std::string why;
    t->set_lost_listener([&](const std::string& w) {
        ++lost;
        why = w;
        CHECK_FALSE(t->is_open());
    });
    server.kill(SIGKILL);
    CHECK(h.wait([&] { return !t->is_open(); }));
    h.settle();
    CHECK(lost == 1); // core learns it now, not at its next check
    CHECK_FALSE(why.empty());
}

TEST_CASE("close() and failed I/O are not reported as a lost connection", "[nbd][failure]") {
    REQUIRE_NBDKIT();
    NbdkitProcess server(memory_server("8M"));
    TransportHarness h;
    auto t = open_or_fail(h, server.uri());
    int lost = 0;
    t->set_lost_listener([&](const std::string&) { ++lost; });
    auto r = h.run(*t, read_request(0, 4096));
    REQUIRE(r);
    CHECK(r->ok());
    t->close();
    h.settle();
    CHECK(lost == 0);
}

namespace {

/// nbdkit's own log (-v): what the server saw of the client.
bool server_log_says(const NbdkitProcess& server, const std::string& text) {
    std::ifstream in(server.dir() / "nbdkit.log");
    const std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return log.find(text) != std::string::npos;
}

} // namespace

TEST_CASE("close() of a connection with nothing in flight disconnects softly (NBD_CMD_DISC)",
          "[nbd][failure]") {
    REQUIRE_NBDKIT();
    auto config = memory_server("8M");
    config.options = {"-v"};
    NbdkitProcess server(config);
    TransportHarness h;
    auto t = open_or_fail(h, server.uri());
    auto r = h.run(*t, read_request(0, 4096));
    REQUIRE(r);
    REQUIRE(r->ok());
    t->close();
    // The protocol reserves a bare hang-up for violations; the server hears a goodbye.
    CHECK(h.wait([&] { return server_log_says(server, "client sent NBD_CMD_DISC"); }));
    CHECK_FALSE(server_log_says(server, "client closed input socket"));
}
