// failover-only selection.
#include "policies/failover_only.hpp"

namespace mpiod {

std::optional<std::size_t> FailoverOnly::select(std::span<const PathLoad> candidates,
                                                const IoRequest& /*next*/) {
    if (candidates.empty()) {
        return std::nullopt;
    }
    return 0;
}

} // namespace mpiod
