// least-blocks selection.
#include "policies/least_blocks.hpp"

namespace mpiod {

std::optional<std::size_t> LeastBlocks::select(std::span<const PathLoad> candidates,
                                               const IoRequest& /*next*/) {
    return cursor_.next_among_best(candidates, [](const PathLoad& a, const PathLoad& b) {
        return a.bytes_in_flight < b.bytes_in_flight;
    });
}

} // namespace mpiod
