// The names of the path selection policies and the factory the engine uses to make them.
#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "core/path_selector.hpp"

namespace mpiod {

/// Makes a fresh selector (with its own rotation state) for a configuration name, or
/// nullptr for an unknown name. Usable directly as a core PolicyFactory:
/// `PolicyFactory f = make_policy;`.
std::unique_ptr<PathSelector> make_policy(std::string_view name);

/// Every name make_policy() accepts, in documentation order:
/// failover-only, round-robin, round-robin-with-subset, least-queue-depth, weighted-paths,
/// least-blocks, service-time. The views refer to static storage.
std::span<const std::string_view> policy_names() noexcept;

} // namespace mpiod
