// "failover-only": all I/O on the highest-priority usable path.
#pragma once

#include "core/path_selector.hpp"

namespace mpiod {

/// Always the first candidate. The engine passes candidates in configured priority order
/// (usable paths of the best tier only), so I/O sticks to the highest-priority usable path
/// and returns to it as soon as the engine reports it usable again.
class FailoverOnly final : public PathSelector {
public:
    std::string_view name() const noexcept override { return "failover-only"; }
    std::optional<std::size_t> select(std::span<const PathLoad> candidates,
                                      const IoRequest& next) override;
};

} // namespace mpiod
