// "round-robin": each I/O goes to the next candidate in turn.
#pragma once

#include "core/path_selector.hpp"
#include "policies/round_robin_cursor.hpp"

namespace mpiod {

/// Rotates over the candidates per I/O, ignoring load. The rotation follows PathIds, not
/// positions, so it stays fair when paths fail and return (see RoundRobinCursor).
class RoundRobin : public PathSelector {
public:
    std::string_view name() const noexcept override { return "round-robin"; }
    std::optional<std::size_t> select(std::span<const PathLoad> candidates,
                                      const IoRequest& next) override;

private:
    RoundRobinCursor cursor_;
};

} // namespace mpiod
