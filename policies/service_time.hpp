// "service-time": dm-multipath's default policy; the path expected to finish the next I/O
// soonest.
#pragma once

#include <cstdint>

#include "core/path_selector.hpp"
#include "policies/round_robin_cursor.hpp"

namespace mpiod {

/// Chooses the path minimising (bytes_in_flight + next.length) / throughput, where
/// throughput is the configured relative throughput (higher is faster). A path with
/// throughput 0 is used only when every candidate has throughput 0. Equal service times
/// go to the path with fewer bytes in flight, then rotate round-robin.
///
/// Like the kernel's dm-ps-service-time.c the comparison cross-multiplies instead of
/// dividing; it does so in 128-bit integers, so it is exact for every 64-bit byte count and
/// 32-bit throughput (the kernel shifts large sizes down instead, losing precision).
class ServiceTime final : public PathSelector {
public:
    std::string_view name() const noexcept override { return "service-time"; }
    std::optional<std::size_t> select(std::span<const PathLoad> candidates,
                                      const IoRequest& next) override;

    /// True when `a` is strictly preferable to `b` for an I/O of `incoming` bytes
    /// (a strict weak order: equal loads are neither better nor worse).
    static bool better(const PathLoad& a, const PathLoad& b, std::uint64_t incoming) noexcept;

private:
    RoundRobinCursor cursor_;
};

} // namespace mpiod
