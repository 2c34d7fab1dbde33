// Candidate lists for policy tests.
#pragma once

#include <cstdint>
#include <vector>

#include "core/io_request.hpp"
#include "core/path_selector.hpp"

namespace mpiod::test {

/// Paths 0..n-1 with no load, weight 1, throughput 1.
inline std::vector<PathLoad> idle_paths(std::size_t n) {
    std::vector<PathLoad> out(n);
    for (std::size_t i = 0; i < n; ++i) {
        out[i].id = static_cast<PathId>(i);
    }
    return out;
}

inline IoRequest read_of(std::uint32_t bytes) {
    IoRequest r;
    r.op = IoOp::read;
    r.length = bytes;
    return r;
}

/// The PathId a selector chose, or -1 when it chose nothing.
inline long chosen_id(std::optional<std::size_t> index, const std::vector<PathLoad>& c) {
    return index ? static_cast<long>(c.at(*index).id) : -1;
}

} // namespace mpiod::test
