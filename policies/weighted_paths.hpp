// "weighted-paths": the path with the lowest configured weight.
#pragma once

#include "core/path_selector.hpp"
#include "policies/round_robin_cursor.hpp"

namespace mpiod {

/// Lowest PathLoad::weight wins (weights are configured per path of an LU; lower is
/// preferred, as in MSDSM); ties rotate round-robin among the tied paths.
class WeightedPaths final : public PathSelector {
public:
    std::string_view name() const noexcept override { return "weighted-paths"; }
    std::optional<std::size_t> select(std::span<const PathLoad> candidates,
                                      const IoRequest& next) override;

private:
    RoundRobinCursor cursor_;
};

} // namespace mpiod
