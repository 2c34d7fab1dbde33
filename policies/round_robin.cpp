// round-robin selection.
#include "policies/round_robin.hpp"

namespace mpiod {

std::optional<std::size_t> RoundRobin::select(std::span<const PathLoad> candidates,
                                              const IoRequest& /*next*/) {
    return cursor_.next(candidates, [](const PathLoad&) { return true; });
}

} // namespace mpiod
