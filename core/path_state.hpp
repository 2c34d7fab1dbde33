// The states of a path, as the engine and the operator see them.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace mpiod {

enum class PathState : std::uint8_t {
    active,       // healthy; carries I/O
    standby,      // healthy; carries I/O only when no active path is left
                  // (configured standby subset, or waiting for a deferred/manual failback)
    failed,       // an I/O or a check failed; the checker is trying to reinstate it
    admin_failed, // failed by the operator; never used or probed until reinstated by hand
    reinstating,  // the checker is reconnecting and probing it right now
};

/// Every state, in declaration order (for listings that show each one, e.g. metrics).
inline constexpr std::array<PathState, 5> all_path_states{
    PathState::active, PathState::standby, PathState::failed, PathState::admin_failed,
    PathState::reinstating};

std::string_view to_string(PathState s) noexcept;
std::optional<PathState> path_state_from_string(std::string_view s) noexcept;

constexpr bool is_usable(PathState s) noexcept {
    return s == PathState::active || s == PathState::standby;
}

} // namespace mpiod
