// Small text pieces of configuration error messages, so every message quotes and lists alike.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mpiod {

/// "value" with double quotes around it.
inline std::string in_quotes(std::string_view s) {
    return '"' + std::string(s) + '"';
}

/// "a, b, c".
inline std::string join(std::span<const std::string_view> words) {
    std::string out;
    for (std::string_view w : words) {
        out += out.empty() ? "" : ", ";
        out += w;
    }
    return out;
}

inline std::string join(const std::vector<std::string>& words) {
    const std::vector<std::string_view> views(words.begin(), words.end());
    return join(views);
}

} // namespace mpiod
