// Formatting of sizes, durations and latencies for mpiod-ctl.
#include "ctl/human_format.hpp"

#include <array>
#include <cmath>
#include <cstdio>

namespace mpiod::ctl {

namespace {

std::string with_decimals(double value, int decimals) {
    std::array<char, 64> buf{};
    std::snprintf(buf.data(), buf.size(), "%.*f", decimals, value);
    return buf.data();
}

std::string two_digits(std::int64_t v) {
    return (v < 10 ? "0" : "") + std::to_string(v);
}

} // namespace

std::string format_size(std::uint64_t bytes) {
    static constexpr const char* units[] = {"K", "M", "G", "T", "P", "E"};
    if (bytes < 1024) {
        return std::to_string(bytes) + "B";
    }
    double value = static_cast<double>(bytes) / 1024.0;
    std::size_t unit = 0;
    // Move up while the value would print as 1024.0 or more after rounding to one decimal.
    while (unit + 1 < std::size(units) && std::round(value * 10.0) >= 1024.0 * 10.0) {
        value /= 1024.0;
        ++unit;
    }
    return with_decimals(value, 1) + units[unit];
}

std::string format_duration(std::int64_t seconds) {
    if (seconds < 0) {
        seconds = 0;
    }
    auto days = seconds / 86400;
    auto hours = seconds / 3600 % 24;
    auto minutes = seconds / 60 % 60;
    auto secs = seconds % 60;
    if (days > 0) {
        return std::to_string(days) + "d " + two_digits(hours) + "h " + two_digits(minutes) + "m " +
               two_digits(secs) + "s";
    }
    if (hours > 0) {
        return std::to_string(hours) + "h " + two_digits(minutes) + "m " + two_digits(secs) + "s";
    }
    if (minutes > 0) {
        return std::to_string(minutes) + "m " + two_digits(secs) + "s";
    }
    return std::to_string(secs) + "s";
}

std::string format_latency_us(double us) {
    if (!std::isfinite(us) || us < 0) {
        return "-";
    }
    if (std::round(us * 10.0) < 1000.0 * 10.0) {
        return with_decimals(us, 1);
    }
    return with_decimals(us, 0);
}

} // namespace mpiod::ctl
