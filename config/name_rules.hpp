// How operator-chosen names may be spelled in the configuration.
#pragma once

#include <algorithm>
#include <string_view>

namespace mpiod {

inline bool is_name_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

/// Path ids and aliases, [A-Za-z0-9_.-]+: they name sockets and appear on command lines.
inline bool is_name(std::string_view s) noexcept {
    return !s.empty() && std::all_of(s.begin(), s.end(), is_name_char);
}

/// WWIDs, [A-Za-z0-9_.:-]+: like names, plus ':' as some identifier formats use.
inline bool is_wwid(std::string_view s) noexcept {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return is_name_char(c) || c == ':'; });
}

} // namespace mpiod
