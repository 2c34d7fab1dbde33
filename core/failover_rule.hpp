// The failover rule: what the engine does with the outcome of one attempt of an I/O on one
// path. Pure: no I/O, no clock, no state; unit-tested on its own (failover_rule_test).
//
//  - success, or the storage's own answer (target_error: ENOSPC, EPERM, a medium error):
//    the I/O completes with it; every path would say the same, so the path stays up;
//  - a path error or a deadline (timed_out), or anything else from the transport: the path
//    cannot be trusted with it any more and is failed; the I/O goes to another path, unless
//    it has used its retry budget: an I/O that breaks every path it touches, round after
//    round, completes with EIO instead of taking the paths down forever.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/io_result.hpp"

namespace mpiod {

struct RetryLimits {
    std::uint32_t max_attempts = 8; // attempts of one I/O, over all paths, before giving up

    /// The budget of an LU with `paths` paths: four rounds over every path, at least 8.
    static RetryLimits for_paths(std::size_t paths) noexcept;
};

struct FailoverDecision {
    enum class Action : std::uint8_t {
        complete,        // give the result to the client
        retry_elsewhere, // dispatch again (another path, or the no-path queue)
        give_up,         // complete with the error: the retry budget is spent
    };
    Action action = Action::complete;
    bool fail_path = false; // take the path out of service first
};

/// `attempts` counts the attempts started so far, the one that ended included.
FailoverDecision decide(const IoResult& result, std::uint32_t attempts,
                        const RetryLimits& limits) noexcept;

} // namespace mpiod
