// least-queue-depth selection.
#include "policies/least_queue_depth.hpp"

namespace mpiod {

std::optional<std::size_t> LeastQueueDepth::select(std::span<const PathLoad> candidates,
                                                   const IoRequest& /*next*/) {
    return cursor_.next_among_best(
        candidates, [](const PathLoad& a, const PathLoad& b) { return a.in_flight < b.in_flight; });
}

} // namespace mpiod
