// Numbers as people read them in mpiod-ctl's output: sizes, durations, latencies.
#pragma once

#include <cstdint>
#include <string>

namespace mpiod::ctl {

/// Binary units with one decimal, like multipath's size=: 0 -> "0B", 512 -> "512B",
/// 1536 -> "1.5K", 1073741824 -> "1.0G". Never shows "1024.0" of a unit: 1048575 -> "1.0M".
std::string format_size(std::uint64_t bytes);

/// Largest units first, no zero-valued leading units: 42 -> "42s", 303 -> "5m 03s",
/// 7503 -> "2h 05m 03s", 266700 -> "3d 02h 05m 00s". Negative counts as 0.
std::string format_duration(std::int64_t seconds);

/// Microseconds with one decimal below 1000 ("85.2"), whole numbers above ("12345").
/// Negative, NaN or infinite -> "-".
std::string format_latency_us(double us);

} // namespace mpiod::ctl
