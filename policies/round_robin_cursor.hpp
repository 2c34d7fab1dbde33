// The rotation state shared by every policy that spreads I/O round-robin, whether over all
// candidates or only over those tied for the best load.
#pragma once

#include <cstddef>
#include <optional>
#include <span>

#include "core/path_selector.hpp"

namespace mpiod {

/// Remembers the PathId chosen last and continues after it, so the rotation stays stable
/// when the candidate list changes (a path fails, returns, or a tie set shifts).
///
/// "After it" means: the next candidate in list order after the last chosen path; when that
/// path is no longer a candidate, the first candidate whose id is greater (the engine numbers
/// paths in configured order, which is also the candidate order), wrapping to the front.
class RoundRobinCursor {
public:
    /// The first candidate, starting after the last chosen one, for which `eligible` holds;
    /// remembers it. nullopt when no candidate is eligible (or there is none).
    template <class Eligible>
    std::optional<std::size_t> next(std::span<const PathLoad> candidates, Eligible eligible) {
        const std::size_t n = candidates.size();
        const std::size_t start = start_index(candidates);
        for (std::size_t step = 0; step < n; ++step) {
            const std::size_t i = (start + step) % n;
            if (eligible(candidates[i])) {
                last_ = candidates[i].id;
                return i;
            }
        }
        return std::nullopt;
    }

    /// Among the candidates that no other candidate beats under the strict weak order
    /// `better(a, b)` ("a is strictly better than b"), the next one in rotation.
    template <class Better>
    std::optional<std::size_t> next_among_best(std::span<const PathLoad> candidates,
                                               Better better) {
        if (candidates.empty()) {
            return std::nullopt;
        }
        const PathLoad* best = &candidates.front();
        for (const PathLoad& c : candidates) {
            if (better(c, *best)) {
                best = &c;
            }
        }
        return next(candidates, [&](const PathLoad& c) { return !better(*best, c); });
    }

    /// The PathId chosen last, if any.
    std::optional<PathId> last() const noexcept { return last_; }

private:
    std::size_t start_index(std::span<const PathLoad> candidates) const noexcept;

    std::optional<PathId> last_;
};

} // namespace mpiod
