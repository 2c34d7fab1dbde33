// How a fuzz target reports a broken invariant that is not a crash by itself.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace mpiod::fuzz {

/// Prints `what` and aborts, so libFuzzer saves the input as a crash.
[[noreturn]] inline void finding(std::string_view what) {
    std::fprintf(stderr, "FUZZ FINDING: %.*s\n", static_cast<int>(what.size()), what.data());
    std::abort();
}

} // namespace mpiod::fuzz
