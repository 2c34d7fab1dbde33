// The failover rule (see the header for the rule in words).
#include "core/failover_rule.hpp"

#include <algorithm>

namespace mpiod {

RetryLimits RetryLimits::for_paths(std::size_t paths) noexcept {
    const auto rounds = static_cast<std::uint32_t>(std::min<std::size_t>(paths, 1u << 20) * 4);
    return RetryLimits{std::max<std::uint32_t>(8, rounds)};
}

FailoverDecision decide(const IoResult& result, std::uint32_t attempts,
                        const RetryLimits& limits) noexcept {
    using Action = FailoverDecision::Action;
    if (result.ok() || result.status == IoStatus::target_error) {
        return {Action::complete, false};
    }
    if (attempts >= limits.max_attempts) {
        return {Action::give_up, true};
    }
    return {Action::retry_elsewhere, true};
}

} // namespace mpiod
