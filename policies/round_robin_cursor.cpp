// Where a rotation resumes after the candidate list changed.
#include "policies/round_robin_cursor.hpp"

namespace mpiod {

std::size_t RoundRobinCursor::start_index(std::span<const PathLoad> candidates) const noexcept {
    if (!last_ || candidates.empty()) {
        return 0;
    }
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        if (candidates[i].id == *last_) {
            return (i + 1) % candidates.size();
        }
    }
    // The last path dropped out: resume with the path that followed it, not at the front,
    // so a flapping path does not make the front of the list take a double share.
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        if (candidates[i].id > *last_) {
            return i;
        }
    }
    return 0;
}

} // namespace mpiod
