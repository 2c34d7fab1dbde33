// The policy interface: chooses which usable path carries the next I/O.
// Implementations live in policies/; the engine gets them through a PolicyFactory so
// core never includes a concrete policy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/io_request.hpp"

namespace mpiod {

using PathId = std::uint32_t;

/// What a policy may know about one candidate path. The engine passes only usable paths
/// of the best tier (active before standby), in configured priority order.
struct PathLoad {
    PathId id = 0;
    std::uint32_t in_flight = 0;       // I/Os outstanding on the path
    std::uint64_t bytes_in_flight = 0; // bytes of those I/Os
    std::uint32_t weight = 1;          // weighted-paths: lower wins
    std::uint32_t throughput = 1;      // service-time: relative throughput, higher is faster
};

/// Pure policy: no I/O, no timers, no locks; called on the owning LU's executor only.
class PathSelector {
public:
    virtual ~PathSelector() = default;

    /// The policy's configuration name, e.g. "service-time".
    virtual std::string_view name() const noexcept = 0;

    /// Index into `candidates` of the path for `next`; nullopt only if candidates is empty.
    virtual std::optional<std::size_t> select(std::span<const PathLoad> candidates,
                                              const IoRequest& next) = 0;
};

/// Makes a selector by its configuration name; nullptr for an unknown name.
using PolicyFactory = std::function<std::unique_ptr<PathSelector>(std::string_view name)>;

} // namespace mpiod
