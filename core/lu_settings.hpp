// The run-time settings of one logical unit. config/ builds them from YAML; core only
// sees these typed values.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"

namespace mpiod {

/// What happens to I/O when every path is down.
struct NoPathRetry {
    enum class Mode : std::uint8_t { fail, queue, timeout };
    Mode mode = Mode::timeout;
    Millis timeout{30'000}; // Mode::timeout: queue for at most this long, then fail with EIO

    static NoPathRetry fail() { return {Mode::fail, Millis{0}}; }
    static NoPathRetry queue() { return {Mode::queue, Millis{0}}; }
    static NoPathRetry after(Millis t) { return {Mode::timeout, t}; }
    bool operator==(const NoPathRetry&) const = default;
};

/// When a path that recovered carries I/O again.
struct Failback {
    enum class Mode : std::uint8_t { immediate, manual, deferred };
    Mode mode = Mode::immediate;
    Millis delay{0}; // Mode::deferred: healthy for this long first

    static Failback immediate() { return {Mode::immediate, Millis{0}}; }
    static Failback manual() { return {Mode::manual, Millis{0}}; }
    static Failback after(Millis d) { return {Mode::deferred, d}; }
    bool operator==(const Failback&) const = default;
};

/// When a path that keeps failing and recovering is held back as marginal: used only while no
/// healthier path is usable, until it has been clean for a while (core/marginal_tracker.hpp).
struct MarginalSettings {
    std::uint32_t failures = 3; // this many failures within `window` make a path marginal; 0 = off
    Millis window{60'000};      // the span over which failures and the error rate count
    /// An I/O error rate above this percentage, over at least MarginalTracker::min_sample I/Os
    /// within `window`, makes a path marginal; 0 = off.
    std::uint32_t error_rate_percent = 1;
    Millis release_after{120'000}; // up, without a failure and under the rate, this long: released
    bool enabled() const noexcept { return failures != 0 || error_rate_percent != 0; }
    bool operator==(const MarginalSettings&) const = default;
};

struct LuSettings {
    std::string policy = "service-time";
    Millis io_timeout{10'000};      // per-I/O deadline on a path; the path is failed after it
    Millis checker_interval{2'000}; // probe period for failed paths and idle healthy paths
    NoPathRetry no_path_retry{};
    Failback failback{};
    /// Early hang detection: an I/O outstanding this long (and at least hang_factor times the
    /// path's recent slowest latency), while another path of the LU answers, makes its path
    /// suspected of hanging long before io_timeout. 0 turns it off.
    Millis suspect_after{250};
    /// Bytes of later writes kept over in-doubt ranges, at most (core/in_doubt_writes.hpp).
    std::uint64_t in_doubt_memory = 64u << 20;
    /// A flush waits while a write in doubt lies under later, acknowledged data (it may still
    /// land over it), for at most this long; then it fails with EIO. 0: it does not wait.
    Millis in_doubt_flush_timeout{30'000};
    MarginalSettings marginal{};
    bool operator==(const LuSettings&) const = default;
};

std::string to_string(const NoPathRetry& n);
std::string to_string(const Failback& f);

} // namespace mpiod
