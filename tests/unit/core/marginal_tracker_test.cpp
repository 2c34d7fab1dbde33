// The marginal rule on its own: when failures or an error rate make a path marginal, and when
// it is released.
#include <catch2/catch.hpp>

#include "core/marginal_tracker.hpp"

using namespace mpiod;
using Kind = MarginalChange::Kind;
using std::chrono::seconds;

namespace {

const Clock::time_point t0 = Clock::time_point{} + std::chrono::hours(1);

MarginalSettings settings(std::uint32_t failures = 3, std::uint32_t rate = 0) {
    MarginalSettings s;
    s.failures = failures;
    s.window = Millis{60'000};
    s.error_rate_percent = rate;
    s.release_after = Millis{120'000};
    return s;
}

/// A failure at `at`, then the rule applied at once (as the engine does when a path fails).
MarginalChange fail(MarginalTracker& m, Clock::time_point at, const MarginalSettings& s) {
    m.record_failure(at, s);
    return m.update(at, false, s);
}

/// `ios` attempts at `at`, every `every`-th one an error (0: none).
void attempts(MarginalTracker& m, Clock::time_point at, int ios, int every,
              const MarginalSettings& s) {
    for (int i = 1; i <= ios; ++i) {
        m.record_io(at, every != 0 && i % every == 0, s);
    }
}

} // namespace

TEST_CASE("the third failure within the window makes a path marginal, the second does not") {
    MarginalTracker m;
    const auto s = settings();
    CHECK(fail(m, t0, s).kind == Kind::none);
    CHECK(fail(m, t0 + seconds(20), s).kind == Kind::none);
    CHECK_FALSE(m.is_marginal());
    const auto change = fail(m, t0 + seconds(59), s);
    CHECK(change.kind == Kind::entered);
    CHECK(m.is_marginal());
    CHECK(m.reason() == "3 failures within 60s");
    CHECK(m.since() == t0 + seconds(59));
    CHECK(m.entries() == 1);
}

TEST_CASE("failures spread wider than the window do not make a path marginal") {
    MarginalTracker m;
    const auto s = settings();
    for (int i = 0; i < 10; ++i) {
        CHECK(fail(m, t0 + seconds(31 * i), s).kind == Kind::none); // never 3 within 60 s
    }
    CHECK_FALSE(m.is_marginal());
}

TEST_CASE("marginal_failures 0 turns the failure trigger off") {
    MarginalTracker m;
    const auto s = settings(0);
    for (int i = 0; i < 10; ++i) {
        fail(m, t0 + seconds(i), s);
    }
    CHECK_FALSE(m.is_marginal());
}

TEST_CASE("an error rate above the threshold over the minimum sample makes a path marginal") {
    MarginalTracker m;
    const auto s = settings(0, 5);
    attempts(m, t0, 99, 10, s); // 9 errors in 99 attempts: too few attempts to judge
    CHECK(m.update(t0, true, s).kind == Kind::none);
    attempts(m, t0 + seconds(1), 1, 0, s);
    const auto change = m.update(t0 + seconds(1), true, s);
    CHECK(change.kind == Kind::entered);
    CHECK(m.reason() == "error rate 9.0% (9 of 100 I/Os) within 60s");
}

TEST_CASE("an error rate at the threshold is not above it") {
    MarginalTracker m;
    const auto s = settings(0, 5);
    attempts(m, t0, 200, 20, s); // exactly 5%
    CHECK(m.update(t0, true, s).kind == Kind::none);
    m.record_io(t0, true, s); // 11 of 201
    CHECK(m.update(t0, true, s).kind == Kind::entered);
}

TEST_CASE("with the default 1%, one error never makes a path marginal") {
    MarginalTracker m;
    MarginalSettings s; // the defaults
    m.record_io(t0, true, s);
    attempts(m, t0, 99, 0, s); // 1 of 100
    CHECK(m.update(t0, true, s).kind == Kind::none);
}

TEST_CASE("errors older than the window leave the rate") {
    MarginalTracker m;
    const auto s = settings(0, 5);
    attempts(m, t0, 100, 2, s); // 50%
    attempts(m, t0 + seconds(61), 100, 0, s);
    CHECK(m.sample(t0 + seconds(61), s).errors == 0);
    CHECK(m.sample(t0 + seconds(61), s).ios == 100);
    CHECK(m.update(t0 + seconds(61), true, s).kind == Kind::none);
}

TEST_CASE("a marginal path is released once it has been up and clean for release_after") {
    MarginalTracker m;
    const auto s = settings();
    for (int i = 0; i < 3; ++i) {
        fail(m, t0 + seconds(i), s);
    }
    REQUIRE(m.is_marginal());
    // Down until 10 s: the clean time starts when it is up.
    CHECK(m.update(t0 + seconds(5), false, s).kind == Kind::none);
    CHECK(m.update(t0 + seconds(10), true, s).kind == Kind::none);
    CHECK(m.update(t0 + seconds(129), true, s).kind == Kind::none);
    const auto change = m.update(t0 + seconds(130), true, s);
    CHECK(change.kind == Kind::released);
    CHECK(change.why == "clean for 120s");
    CHECK_FALSE(m.is_marginal());
}

TEST_CASE("a failure while marginal starts its clean time again") {
    MarginalTracker m;
    const auto s = settings();
    for (int i = 0; i < 3; ++i) {
        fail(m, t0 + seconds(i), s);
    }
    m.update(t0 + seconds(3), true, s);
    CHECK(fail(m, t0 + seconds(100), s).kind == Kind::none); // still marginal: no new entry
    CHECK(m.entries() == 1);
    m.update(t0 + seconds(101), true, s);
    CHECK(m.update(t0 + seconds(200), true, s).kind == Kind::none);
    CHECK(m.update(t0 + seconds(221), true, s).kind == Kind::released);
}

TEST_CASE("a released path needs as many new failures to be marginal again") {
    MarginalTracker m;
    auto s = settings();
    s.release_after = Millis{10'000}; // released while its failures are still in the window
    for (int i = 0; i < 3; ++i) {
        fail(m, t0 + seconds(i), s);
    }
    m.update(t0 + seconds(3), true, s);
    REQUIRE(m.update(t0 + seconds(13), true, s).kind == Kind::released);
    // The old failures are forgotten: one new failure is not a third one.
    CHECK(fail(m, t0 + seconds(14), s).kind == Kind::none);
    CHECK(fail(m, t0 + seconds(15), s).kind == Kind::none);
    CHECK(fail(m, t0 + seconds(16), s).kind == Kind::entered);
    CHECK(m.entries() == 2);
}

TEST_CASE("a marginal path is not released while its error rate stays above the threshold") {
    MarginalTracker m;
    auto s = settings(0, 5);
    s.release_after = Millis{10'000};
    attempts(m, t0, 100, 10, s);
    REQUIRE(m.update(t0, true, s).kind == Kind::entered);
    CHECK(m.update(t0 + seconds(1), true, s).kind == Kind::none);
    CHECK(m.update(t0 + seconds(30), true, s).kind == Kind::none); // 10 s clean, rate still high
    // The errors leave the window at 60 s; clean from then on.
    CHECK(m.update(t0 + seconds(61), true, s).kind == Kind::none);
    CHECK(m.update(t0 + seconds(71), true, s).kind == Kind::released);
}

TEST_CASE("clear forgets a marginal path's history; turning both triggers off releases it") {
    MarginalTracker m;
    auto s = settings();
    for (int i = 0; i < 3; ++i) {
        fail(m, t0 + seconds(i), s);
    }
    REQUIRE(m.is_marginal());
    CHECK(m.clear());
    CHECK_FALSE(m.is_marginal());
    CHECK_FALSE(m.clear());
    CHECK(fail(m, t0 + seconds(4), s).kind == Kind::none); // history gone too

    fail(m, t0 + seconds(5), s);
    fail(m, t0 + seconds(6), s);
    REQUIRE(m.is_marginal());
    s.failures = 0;
    const auto change = m.update(t0 + seconds(7), false, s);
    CHECK(change.kind == Kind::released);
    CHECK(change.why == "marginal paths are turned off");
}
