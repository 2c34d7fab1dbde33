// The Prometheus text exposition format (version 0.0.4) of the engine's status snapshots:
// what `GET /metrics` answers. Pure: snapshots in, text out. The metric families, their
// types and labels are listed in the README ("Metrics") and in mpiod(8).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/latency_histogram.hpp"
#include "core/lu_status.hpp"

namespace mpiod {

/// The Content-Type of the text exposition format.
inline constexpr std::string_view metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

/// The `le` bounds of every latency histogram, in µs: each power of two from 16 µs to about
/// 67 s. Each is the exclusive upper end of a LatencyHistogram bucket (latencies are counted
/// in whole µs), so a bucket's cumulative count is exact, not interpolated.
inline constexpr std::array<std::uint64_t, 23> metrics_bucket_bounds_us = [] {
    std::array<std::uint64_t, 23> b{};
    for (unsigned i = 0; i < b.size(); ++i) {
        b[i] = std::uint64_t{16} << i;
    }
    return b;
}();

/// Every LU and path of `lus` (LogicalUnit::status() snapshots, in the daemon's order) as
/// metric families: `# HELP`, `# TYPE`, then its samples; each family once, also when it has
/// no sample. `version` labels mpiod_build_info.
std::string render_metrics(const std::vector<LuStatus>& lus, std::string_view version);

/// A label value with backslash, double quote and newline escaped (\\, \", \n).
std::string escape_label_value(std::string_view value);

/// µs as seconds in decimal, exactly and without exponent: 16 -> "0.000016", 2500000 -> "2.5".
std::string seconds_text(std::uint64_t us);

} // namespace mpiod
