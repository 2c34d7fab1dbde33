// `mpiod-ctl stats`: rates and latency percentiles over an interval, from two `list-lus`
// snapshots taken that far apart (the daemon keeps only counters and histograms).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace mpiod::ctl {

/// One row per LU (client view) and one per path (per attempt), as a JSON array of
/// {"lu", "path" ("" for the LU row), "iops", "read_bytes_per_s", "write_bytes_per_s",
/// "p50_us", "p90_us", "p99_us", "max_us", "failovers", "errors"}. LUs or paths missing from
/// `before` (added meanwhile) count from zero. `seconds` > 0.
nlohmann::json compute_stats(const nlohmann::json& before, const nlohmann::json& after,
                             double seconds);

/// The rows as an aligned table.
std::string render_stats(const nlohmann::json& rows);

} // namespace mpiod::ctl
