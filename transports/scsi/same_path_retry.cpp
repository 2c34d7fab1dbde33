#include "transports/scsi/same_path_retry.hpp"

#include <algorithm>

namespace mpiod::scsi {

std::optional<std::chrono::milliseconds>
SamePathRetry::next(Action action, Clock::time_point now,
                    std::optional<std::chrono::milliseconds> transition_timeout) {
    if (!first_) {
        first_ = now;
    }
    auto elapsed = now - *first_;
    std::optional<std::chrono::milliseconds> delay;
    switch (action) {
    case Action::retry:
        if (immediate_ < limits_.immediate_retries) {
            ++immediate_;
            delay = std::chrono::milliseconds(0);
        }
        break;
    case Action::retry_later:
        if (elapsed < limits_.busy_budget) {
            busy_delay_ = busy_delay_.count() == 0
                              ? limits_.busy_delay
                              : std::min(busy_delay_ * 2, limits_.busy_max_delay);
            delay = busy_delay_;
        }
        break;
    case Action::transitioning:
        if (elapsed < transition_timeout.value_or(limits_.transition_default)) {
            delay = limits_.transition_poll;
        }
        break;
    default:
        break;
    }
    if (delay) {
        ++attempts_;
    }
    return delay;
}

} // namespace mpiod::scsi
