// The same-path retry budget: bounded counts and times, per kind of condition.
#include <chrono>

#include <catch2/catch.hpp>

#include "transports/scsi/same_path_retry.hpp"

using namespace mpiod::scsi;
using namespace std::chrono_literals;

TEST_CASE("immediate retries are counted", "[scsi][retry]") {
    SamePathRetry r(RetryLimits{.immediate_retries = 3});
    auto t = SamePathRetry::Clock::now();
    for (int i = 0; i < 3; ++i) {
        CHECK(r.next(Action::retry, t) == 0ms);
    }
    CHECK_FALSE(r.next(Action::retry, t));
    CHECK(r.attempts() == 3);
}

TEST_CASE("busy retries back off and stop after their time budget", "[scsi][retry]") {
    RetryLimits l;
    l.busy_delay = 10ms;
    l.busy_max_delay = 40ms;
    l.busy_budget = 1000ms;
    SamePathRetry r(l);
    auto t = SamePathRetry::Clock::now();
    CHECK(r.next(Action::retry_later, t) == 10ms);
    CHECK(r.next(Action::retry_later, t + 10ms) == 20ms);
    CHECK(r.next(Action::retry_later, t + 30ms) == 40ms);
    CHECK(r.next(Action::retry_later, t + 70ms) == 40ms);
    CHECK_FALSE(r.next(Action::retry_later, t + 1001ms));
}

TEST_CASE("ALUA transitioning polls until the transition timeout", "[scsi][retry][alua]") {
    SamePathRetry r;
    auto t = SamePathRetry::Clock::now();
    CHECK(r.next(Action::transitioning, t) == 1000ms);
    CHECK(r.next(Action::transitioning, t + 59s) == 1000ms);
    CHECK_FALSE(r.next(Action::transitioning, t + 60s));
    SamePathRetry short_one;
    CHECK(short_one.next(Action::transitioning, t, 5000ms) == 1000ms);
    CHECK_FALSE(short_one.next(Action::transitioning, t + 5s, 5000ms));
}

TEST_CASE("final outcomes are never retried", "[scsi][retry]") {
    SamePathRetry r;
    auto t = SamePathRetry::Clock::now();
    for (Action a : {Action::ok, Action::path_error, Action::timed_out, Action::target_error}) {
        CHECK_FALSE(r.next(a, t));
    }
}
