// Duration parsing and formatting for the configuration file.
#include "config/duration.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <limits>

namespace mpiod {

namespace {

struct Unit {
    std::string_view suffix;
    std::int64_t millis;
};

// Longest suffix first, so "ms" is not read as "m" followed by garbage.
constexpr std::array<Unit, 4> units{{{"ms", 1}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}}};

} // namespace

std::optional<Millis> parse_duration(std::string_view text) noexcept {
    std::int64_t scale = 1'000; // a bare number is seconds
    for (const Unit& u : units) {
        if (text.size() > u.suffix.size() && text.ends_with(u.suffix)) {
            scale = u.millis;
            text.remove_suffix(u.suffix.size());
            break;
        }
    }
    if (text.empty() || text.front() < '0' || text.front() > '9') {
        return std::nullopt; // from_chars would accept a '-' sign
    }
    std::int64_t count = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), count);
    if (ec != std::errc{} || end != text.data() + text.size()) {
        return std::nullopt;
    }
    if (count > std::numeric_limits<Millis::rep>::max() / scale) {
        return std::nullopt;
    }
    return Millis{count * scale};
}

std::string format_duration(Millis d) {
    const auto ms = d.count();
    if (ms == 0) {
        return "0s";
    }
    for (const Unit& u : {units[1], units[2], units[3]}) {
        if (ms % u.millis == 0) {
            return std::to_string(ms / u.millis) + std::string(u.suffix);
        }
    }
    return std::to_string(ms) + "ms";
}

} // namespace mpiod
