// The bounded "retry on the same path" budget of one command: how many immediate retries,
// how long to keep retrying a busy device, how long an ALUA transition may take. Core only
// sees the final result; this keeps a transient condition from failing a healthy path and a
// lasting one from hiding a dead path.
#pragma once

#include <chrono>
#include <optional>

#include "transports/scsi/scsi_disposition.hpp"

namespace mpiod::scsi {

struct RetryLimits {
    int immediate_retries = 5;                // Action::retry
    std::chrono::milliseconds busy_delay{50}; // Action::retry_later: first delay, doubling
    std::chrono::milliseconds busy_max_delay{1000};
    std::chrono::milliseconds busy_budget{5000};         // from the first failure
    std::chrono::milliseconds transition_poll{1000};     // Action::transitioning
    std::chrono::milliseconds transition_default{60000}; // when RTPG gives no time
};

class SamePathRetry {
public:
    using Clock = std::chrono::steady_clock;

    explicit SamePathRetry(RetryLimits limits = {}) : limits_(limits) {}

    /// Delay before re-issuing the command after an outcome classified as `action`, or
    /// nullopt when the budget for it is spent (or the action is not retried at all).
    /// `transition_timeout` overrides the default ALUA transition budget when set.
    std::optional<std::chrono::milliseconds>
    next(Action action, Clock::time_point now,
         std::optional<std::chrono::milliseconds> transition_timeout = std::nullopt);

    int attempts() const noexcept { return attempts_; }

private:
    RetryLimits limits_;
    int attempts_ = 0;
    int immediate_ = 0;
    std::chrono::milliseconds busy_delay_{0};
    std::optional<Clock::time_point> first_;
};

} // namespace mpiod::scsi
