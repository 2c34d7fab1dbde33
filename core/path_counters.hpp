// Per-path counters, read by mpiod-ctl and by load-aware policies.
#pragma once

#include <cstdint>

#include "core/latency_histogram.hpp"

namespace mpiod {

struct PathCounters {
    std::uint64_t ios = 0; // completed I/Os (any outcome)
    std::uint64_t bytes_read = 0;
    std::uint64_t bytes_written = 0;
    std::uint64_t errors = 0; // I/Os that ended in an error on this path
    std::uint64_t timeouts = 0;
    std::uint64_t failures = 0; // times the path went to failed
    std::uint32_t in_flight = 0;
    std::uint64_t bytes_in_flight = 0;
    std::uint64_t latency_total_us = 0; // sum over completed I/Os, for the mean
    double latency_ewma_us = 0;         // recent latency, smoothed
    /// The slowest recent latencies: a maximum that decays by 1/256 per completed I/O, so a
    /// spike is forgotten after a few hundred I/Os. Early hang detection scales from it.
    double latency_recent_high_us = 0;
    LatencyHistogram latency; // every completed I/O's latency on this path

    double latency_mean_us() const noexcept {
        return ios == 0 ? 0.0 : static_cast<double>(latency_total_us) / static_cast<double>(ios);
    }
};

} // namespace mpiod
