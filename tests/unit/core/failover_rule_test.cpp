// The failover rule on its own: which outcomes complete, which fail the path and retry
// elsewhere, and the retry budget.
#include <cerrno>

#include <catch2/catch.hpp>

#include "core/failover_rule.hpp"

using namespace mpiod;
using Action = FailoverDecision::Action;

TEST_CASE("success and target errors complete without failing the path") {
    const RetryLimits limits{8};
    for (auto r : {IoResult::success(), IoResult::target(ENOSPC), IoResult::target(EPERM)}) {
        auto d = decide(r, 1, limits);
        CHECK(d.action == Action::complete);
        CHECK_FALSE(d.fail_path);
    }
}

TEST_CASE("path errors and deadlines fail the path and retry elsewhere") {
    const RetryLimits limits{8};
    for (auto r : {IoResult::path(ECONNRESET), IoResult{IoStatus::timed_out, ETIMEDOUT},
                   IoResult{IoStatus::cancelled, ECANCELED}}) {
        auto d = decide(r, 1, limits);
        CHECK(d.action == Action::retry_elsewhere);
        CHECK(d.fail_path);
    }
}

TEST_CASE("an I/O that used its retry budget gives up, and still fails its path") {
    const RetryLimits limits{3};
    CHECK(decide(IoResult::path(EIO), 2, limits).action == Action::retry_elsewhere);
    auto d = decide(IoResult::path(EIO), 3, limits);
    CHECK(d.action == Action::give_up);
    CHECK(d.fail_path);
    // The budget never turns a success or a target error into anything else.
    CHECK(decide(IoResult::success(), 99, limits).action == Action::complete);
    CHECK(decide(IoResult::target(ENOSPC), 99, limits).action == Action::complete);
}

TEST_CASE("the budget is four rounds over the paths, at least eight attempts") {
    CHECK(RetryLimits::for_paths(0).max_attempts == 8);
    CHECK(RetryLimits::for_paths(1).max_attempts == 8);
    CHECK(RetryLimits::for_paths(2).max_attempts == 8);
    CHECK(RetryLimits::for_paths(3).max_attempts == 12);
    CHECK(RetryLimits::for_paths(16).max_attempts == 64);
}
