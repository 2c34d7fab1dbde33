// Durations as the configuration file spells them: "500ms", "10s", "2m", "1h", or a bare
// integer meaning seconds.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"

namespace mpiod {

/// Parses a non-negative whole number followed by one of the units ms, s, m, h, or nothing
/// (seconds). No sign, no fraction, no spaces. nullopt if malformed or too large to represent.
std::optional<Millis> parse_duration(std::string_view text) noexcept;

/// The shortest exact spelling parse_duration() accepts: 3600000ms -> "1h", 90000ms -> "90s".
std::string format_duration(Millis d);

} // namespace mpiod
