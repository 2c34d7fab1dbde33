// The LuSettings keys, shared by the `defaults:` section and every `lus:` entry.
#pragma once

#include <span>
#include <string_view>

#include "config/config_node.hpp"
#include "core/lu_settings.hpp"

namespace mpiod {

/// Limits of the settings values (inclusive), as documented in config/README.md.
struct LuSettingsLimits {
    static constexpr Millis io_timeout_min{1};
    static constexpr Millis io_timeout_max{3'600'000};
    static constexpr Millis checker_interval_min{100};
    static constexpr Millis checker_interval_max{3'600'000};
    static constexpr Millis no_path_retry_max{86'400'000};
    static constexpr Millis failback_max{86'400'000};
    static constexpr Millis suspect_after_max{3'600'000};
    static constexpr std::uint64_t in_doubt_memory_mib_min = 1;
    static constexpr std::uint64_t in_doubt_memory_mib_max = 65'536;
    static constexpr Millis in_doubt_flush_timeout_max{86'400'000};
    static constexpr std::uint64_t marginal_failures_max = 1000;
    static constexpr std::uint64_t marginal_error_rate_max = 99; // percent
    static constexpr Millis marginal_time_min{1'000}; // marginal_window, marginal_release_after
    static constexpr Millis marginal_time_max{86'400'000};
};

/// policy, io_timeout, checker_interval, no_path_retry, failback, suspect_after,
/// in_doubt_memory_mib, in_doubt_flush_timeout, marginal_failures, marginal_window,
/// marginal_error_rate, marginal_release_after.
std::span<const std::string_view> lu_settings_keys() noexcept;

/// Overrides in `settings` every settings key present in the mapping `map`; other keys are
/// left for the caller (it checks for unknown keys). Throws ConfigError on a bad value.
void read_lu_settings(const ConfigNode& map, LuSettings& settings);

} // namespace mpiod
