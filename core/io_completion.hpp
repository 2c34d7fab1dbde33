// The completion handler type of one I/O. Type-erased so transports, the engine and
// exports can hand completions to each other without templates crossing folders.
#pragma once

#include "core/completion.hpp"
#include "core/io_result.hpp"

namespace mpiod {

/// Called exactly once as std::move(done)(result), on the engine's executor, never from
/// inside the call that started the I/O.
using IoCompletion = Completion<IoResult>;

} // namespace mpiod
