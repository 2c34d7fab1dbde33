// weighted-paths selection.
#include "policies/weighted_paths.hpp"

namespace mpiod {

std::optional<std::size_t> WeightedPaths::select(std::span<const PathLoad> candidates,
                                                 const IoRequest& /*next*/) {
    return cursor_.next_among_best(
        candidates, [](const PathLoad& a, const PathLoad& b) { return a.weight < b.weight; });
}

} // namespace mpiod
