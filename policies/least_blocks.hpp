// "least-blocks": the path with the fewest bytes outstanding.
#pragma once

#include "core/path_selector.hpp"
#include "policies/round_robin_cursor.hpp"

namespace mpiod {

/// Fewest PathLoad::bytes_in_flight wins; ties rotate round-robin among the tied paths.
/// MSDSM example: I/Os of 10 and 20 bytes on path 1, none on path 2 -> path 2.
class LeastBlocks final : public PathSelector {
public:
    std::string_view name() const noexcept override { return "least-blocks"; }
    std::optional<std::size_t> select(std::span<const PathLoad> candidates,
                                      const IoRequest& next) override;

private:
    RoundRobinCursor cursor_;
};

} // namespace mpiod
