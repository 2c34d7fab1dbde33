// Reading LuSettings values: policy names, timeouts, no_path_retry and failback modes,
// marginal paths.
#include "config/lu_settings_keys.hpp"

#include <algorithm>
#include <array>

#include "policies/policy_registry.hpp"

namespace mpiod {

namespace {

constexpr std::array<std::string_view, 12> settings_keys{"policy",
                                                         "io_timeout",
                                                         "checker_interval",
                                                         "no_path_retry",
                                                         "failback",
                                                         "suspect_after",
                                                         "in_doubt_memory_mib",
                                                         "in_doubt_flush_timeout",
                                                         "marginal_failures",
                                                         "marginal_window",
                                                         "marginal_error_rate",
                                                         "marginal_release_after"};

std::string policy_of(const ConfigNode& node) {
    std::string name = node.text();
    const auto names = policy_names();
    if (std::find(names.begin(), names.end(), name) == names.end()) {
        std::string valid;
        for (std::string_view n : names) {
            valid += valid.empty() ? "" : ", ";
            valid += n;
        }
        throw node.error("unknown policy \"" + name + "\" (valid: " + valid + ")");
    }
    return name;
}

NoPathRetry no_path_retry_of(const ConfigNode& node) {
    const std::string s = node.text();
    if (s == "queue") {
        return NoPathRetry::queue();
    }
    if (s == "fail") {
        return NoPathRetry::fail();
    }
    if (s.empty() || s.front() < '0' || s.front() > '9') {
        throw node.error("\"" + s + "\" is not a duration, \"queue\" or \"fail\"");
    }
    const Millis d = node.duration(Millis{0}, LuSettingsLimits::no_path_retry_max);
    // Zero time to wait is failing at once; say so in the typed value too.
    return d == Millis{0} ? NoPathRetry::fail() : NoPathRetry::after(d);
}

Failback failback_of(const ConfigNode& node) {
    const std::string s = node.text();
    if (s == "immediate") {
        return Failback::immediate();
    }
    if (s == "manual") {
        return Failback::manual();
    }
    if (s.empty() || s.front() < '0' || s.front() > '9') {
        throw node.error("\"" + s + "\" is not \"immediate\", \"manual\" or a duration");
    }
    const Millis d = node.duration(Millis{0}, LuSettingsLimits::failback_max);
    return d == Millis{0} ? Failback::immediate() : Failback::after(d);
}

void read_marginal_settings(const ConfigNode& map, MarginalSettings& m) {
    using L = LuSettingsLimits;
    if (auto n = map.find("marginal_failures")) {
        m.failures = static_cast<std::uint32_t>(n->whole_number(0, L::marginal_failures_max));
    }
    if (auto n = map.find("marginal_window")) {
        m.window = n->duration(L::marginal_time_min, L::marginal_time_max);
    }
    if (auto n = map.find("marginal_error_rate")) {
        m.error_rate_percent =
            static_cast<std::uint32_t>(n->whole_number(0, L::marginal_error_rate_max));
    }
    if (auto n = map.find("marginal_release_after")) {
        m.release_after = n->duration(L::marginal_time_min, L::marginal_time_max);
    }
}

} // namespace

std::span<const std::string_view> lu_settings_keys() noexcept {
    return settings_keys;
}

void read_lu_settings(const ConfigNode& map, LuSettings& settings) {
    if (auto n = map.find("policy")) {
        settings.policy = policy_of(*n);
    }
    if (auto n = map.find("io_timeout")) {
        settings.io_timeout =
            n->duration(LuSettingsLimits::io_timeout_min, LuSettingsLimits::io_timeout_max);
    }
    if (auto n = map.find("checker_interval")) {
        settings.checker_interval = n->duration(LuSettingsLimits::checker_interval_min,
                                                LuSettingsLimits::checker_interval_max);
    }
    if (auto n = map.find("no_path_retry")) {
        settings.no_path_retry = no_path_retry_of(*n);
    }
    if (auto n = map.find("failback")) {
        settings.failback = failback_of(*n);
    }
    if (auto n = map.find("suspect_after")) {
        settings.suspect_after = n->duration(Millis{0}, LuSettingsLimits::suspect_after_max);
    }
    if (auto n = map.find("in_doubt_memory_mib")) {
        settings.in_doubt_memory = n->whole_number(LuSettingsLimits::in_doubt_memory_mib_min,
                                                   LuSettingsLimits::in_doubt_memory_mib_max)
                                   << 20;
    }
    if (auto n = map.find("in_doubt_flush_timeout")) {
        settings.in_doubt_flush_timeout =
            n->duration(Millis{0}, LuSettingsLimits::in_doubt_flush_timeout_max);
    }
    read_marginal_settings(map, settings.marginal);
}

} // namespace mpiod
