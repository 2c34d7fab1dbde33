// The engine's clock and duration types.
#pragma once

#include <chrono>

namespace mpiod {

using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

} // namespace mpiod
