// "least-queue-depth": the path with the fewest I/Os outstanding.
#pragma once

#include "core/path_selector.hpp"
#include "policies/round_robin_cursor.hpp"

namespace mpiod {

/// Fewest PathLoad::in_flight wins; ties rotate round-robin among the tied paths.
/// MSDSM example: 2 I/Os on path 1 and none on path 2 -> path 2.
class LeastQueueDepth final : public PathSelector {
public:
    std::string_view name() const noexcept override { return "least-queue-depth"; }
    std::optional<std::size_t> select(std::span<const PathLoad> candidates,
                                      const IoRequest& next) override;

private:
    RoundRobinCursor cursor_;
};

} // namespace mpiod
