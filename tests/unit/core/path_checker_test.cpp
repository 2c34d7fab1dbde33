// The path checker's two pure decisions: what a tick does to a path, and whether a path that
// opened may serve the LU.
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "core/path_checker.hpp"
#include "tests/support/fake_transport.hpp"

using namespace mpiod;
using namespace mpiod::test;
using namespace std::chrono_literals;

namespace {

struct OnePath {
    boost::asio::io_context io;
    LuIdentity lu{"lu0", "wwid-1"};
    std::shared_ptr<FakePathControl> control = std::make_shared<FakePathControl>();
    Path path{0, spec(), lu};
    Clock::time_point t0{std::chrono::hours(1)};
    LuSettings settings;

    OnePath() {
        settings.io_timeout = 1000ms;
        settings.checker_interval = 2000ms;
        path.last_good = t0;
    }
    PathSpec spec() {
        PathSpec s;
        s.id = "a";
        s.transport = std::make_unique<FakeTransport>(io.get_executor(), control, "a");
        return s;
    }
    CheckAction at(Clock::duration since_t0) const {
        return next_check_action(path, t0 + since_t0, settings);
    }
};

TransportInfo reported(std::uint64_t size) {
    TransportInfo ti;
    ti.wwid = "wwid-1";
    ti.size_bytes = size;
    ti.min_block = 512;
    ti.can_flush = ti.can_fua = true;
    return ti;
}

ExportInfo lu_of(std::uint64_t size) {
    ExportInfo e;
    e.size_bytes = size;
    e.min_block = 512;
    e.can_flush = e.can_fua = true;
    return e;
}

} // namespace

TEST_CASE("an I/O in flight past io_timeout is a deadline, before anything else") {
    OnePath f;
    f.settings.suspect_after = 0ms; // early hang detection off
    f.path.transition(PathState::active, {"test"});
    EngineIo io;
    io.started = f.t0;
    f.path.in_flight.push_back(io);
    f.path.checking = true; // even while a check runs
    f.path.check_started = f.t0;
    CHECK(f.at(999ms) == CheckAction::none);
    CHECK(f.at(1000ms) == CheckAction::io_deadline);
    f.path.in_flight.clear();
}

TEST_CASE("a check that runs past its deadline is hung; a running one is left alone") {
    OnePath f;
    f.path.checking = true;
    f.path.check_started = f.t0;
    CHECK(check_deadline(f.settings) == 5000ms); // never less than 5 s
    CHECK(f.at(4999ms) == CheckAction::none);
    CHECK(f.at(5000ms) == CheckAction::hung_check);
    f.settings.io_timeout = 8000ms;
    CHECK(f.at(5000ms) == CheckAction::none); // a long io_timeout lengthens it
}

TEST_CASE("a failed path reconnects when its next check is due") {
    OnePath f;
    f.path.transition(PathState::failed, {"test"});
    f.path.next_check = f.t0 + 2000ms;
    CHECK(f.at(1999ms) == CheckAction::none);
    CHECK(f.at(2000ms) == CheckAction::reconnect);
}

TEST_CASE("an idle healthy path is checked after checker_interval without good I/O") {
    OnePath f;
    f.path.transition(PathState::active, {"test"});
    CHECK(f.at(1999ms) == CheckAction::none);
    CHECK(f.at(2000ms) == CheckAction::idle_check);
    EngineIo io;
    io.started = f.t0 + 1900ms;
    f.path.in_flight.push_back(io); // busy: its I/O tells, no check needed
    CHECK(f.at(2000ms) == CheckAction::none);
    f.path.in_flight.clear();
}

TEST_CASE("a standby path waiting for failback goes home when the failback time comes") {
    OnePath f;
    f.path.transition(PathState::standby, {"test"});
    f.path.waiting_failback = true;
    f.path.failback_at = f.t0 + 500ms;
    f.path.last_good = f.t0;
    CHECK(f.at(499ms) == CheckAction::none);
    CHECK(f.at(500ms) == CheckAction::failback);
    f.path.waiting_failback = false; // a configured standby member only gets idle checks
    CHECK(f.at(500ms) == CheckAction::none);
    CHECK(f.at(2000ms) == CheckAction::idle_check);
}

TEST_CASE("admin-failed paths are never probed; a removed one closes after its last I/O") {
    OnePath f;
    f.path.transition(PathState::admin_failed, {"test"});
    f.control->open = true;
    CHECK(f.at(60s) == CheckAction::none);
    f.path.removed = true;
    CHECK(f.at(0s) == CheckAction::close_removed);
    f.control->open = false;
    CHECK(f.at(0s) == CheckAction::none);
}

TEST_CASE("admission: identity, size and capabilities") {
    OnePath f;
    const auto lu = lu_of(1 << 20);
    CHECK(admission_refusal(f.path, reported(1 << 20), "wwid-1", lu, false).empty());

    auto other = reported(1 << 20);
    other.wwid = "wwid-2";
    CHECK(admission_refusal(f.path, other, "wwid-1", lu, false) ==
          "it reports identity wwid-2 but the lu is wwid-1");
    other.wwid.clear(); // a path without an identity is taken on the config's word
    CHECK(admission_refusal(f.path, other, "wwid-1", lu, false).empty());

    CHECK(admission_refusal(f.path, reported(1 << 19), "wwid-1", lu, false) ==
          "size 524288 is smaller than the lu's 1048576");

    auto no_fua = reported(1 << 20);
    no_fua.can_fua = false;
    CHECK(admission_refusal(f.path, no_fua, "wwid-1", lu, false) ==
          "it lacks fua, which the lu advertises");
}

TEST_CASE("admission: a larger size is taken from a path that served the lu, or in a rescan") {
    OnePath f;
    const auto lu = lu_of(1 << 20);
    const auto larger = reported(2 << 20);
    CHECK(admission_refusal(f.path, larger, "wwid-1", lu, false) ==
          "size 2097152 differs from the lu's 1048576");
    CHECK(admission_refusal(f.path, larger, "wwid-1", lu, true).empty());
    f.path.ever_up = true;
    CHECK(admission_refusal(f.path, larger, "wwid-1", lu, false).empty());
}

TEST_CASE("an I/O far slower than its path's history while another path answers is a hang") {
    OnePath f;
    f.path.transition(PathState::active, {"test"});
    EngineIo io;
    io.started = f.t0;
    f.path.in_flight.push_back(io);
    const auto answered_since = f.t0 + 100ms;
    CHECK(next_check_action(f.path, f.t0 + 249ms, f.settings, answered_since) == CheckAction::none);
    CHECK(next_check_action(f.path, f.t0 + 250ms, f.settings, answered_since) ==
          CheckAction::suspect_hang);
    // Nobody answered since the I/O started: probe another path first.
    CHECK(next_check_action(f.path, f.t0 + 250ms, f.settings, f.t0 - 1ms) ==
          CheckAction::confirm_hang);
    // A path whose I/Os lately took 100 ms gets four times that before it is suspected.
    f.path.counters().latency_recent_high_us = 100'000;
    CHECK(hang_threshold(f.path, f.settings) == 400ms);
    CHECK(next_check_action(f.path, f.t0 + 399ms, f.settings, answered_since) == CheckAction::none);
    CHECK(next_check_action(f.path, f.t0 + 400ms, f.settings, answered_since) ==
          CheckAction::suspect_hang);
    // Off, or a path already out of service: only io_timeout counts.
    f.settings.suspect_after = 0ms;
    CHECK(next_check_action(f.path, f.t0 + 999ms, f.settings, answered_since) == CheckAction::none);
    f.settings.suspect_after = 250ms;
    f.path.transition(PathState::failed, {"test"});
    f.path.next_check = f.t0 + 1h;
    CHECK(next_check_action(f.path, f.t0 + 999ms, f.settings, answered_since) == CheckAction::none);
    f.path.in_flight.clear();
}

TEST_CASE("a path that answered since its oldest I/O started is slow on it, not hung: silence "
          "counts from its last answer") {
    OnePath f;
    f.path.transition(PathState::active, {"test"});
    EngineIo flush; // a long flush; other requests on the path come back meanwhile
    flush.started = f.t0;
    f.path.in_flight.push_back(flush);
    f.path.last_good = f.t0 + 200ms;
    const auto answered_since = f.t0 + 300ms;
    CHECK(silent_since(f.path) == f.t0 + 200ms);
    CHECK(next_check_action(f.path, f.t0 + 449ms, f.settings, answered_since) == CheckAction::none);
    CHECK(next_check_action(f.path, f.t0 + 450ms, f.settings, answered_since) ==
          CheckAction::suspect_hang);
    // Another path's answer must come after the silence began to confirm it.
    CHECK(next_check_action(f.path, f.t0 + 450ms, f.settings, f.t0 + 150ms) ==
          CheckAction::confirm_hang);
    // io_timeout still counts from the oldest I/O's start: it bounds a slow I/O.
    CHECK(next_check_action(f.path, f.t0 + f.settings.io_timeout, f.settings, answered_since) ==
          CheckAction::io_deadline);
    f.path.in_flight.clear();
}

TEST_CASE("the recent slowest latency follows spikes and forgets them") {
    OnePath f;
    IoRequest r;
    r.op = IoOp::read;
    r.length = 4096;
    f.path.record_start(4096);
    f.path.record_end(r, true, 80ms);
    CHECK(f.path.counters().latency_recent_high_us == Approx(80'000));
    for (int i = 0; i < 1000; ++i) {
        f.path.record_start(4096);
        f.path.record_end(r, true, 1ms);
    }
    CHECK(f.path.counters().latency_recent_high_us < 2'000);
    CHECK(f.path.counters().latency_recent_high_us >= 1'000);
}
