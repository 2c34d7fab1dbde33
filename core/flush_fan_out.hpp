// Flush fan-out: a client flush must cover every write completed before it, and writes
// completed on different paths may sit in different caches (connections, sessions). So a
// flush goes, as one leg per path, to every usable path that completed writes since the
// last flush; the client's flush completes when every leg has, with the first error.
//
// Writes completed on a path that is no longer usable are covered by a flush on any live
// path (the paths share one backing store); a flush with nothing written since the last one
// still goes to one path, so that it covers writes other clients made on the storage.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "core/engine_io.hpp"
#include "core/path.hpp"

namespace mpiod {

struct FlushPlan {
    std::vector<Path*> targets;   // usable paths with writes to flush
    bool needs_live_path = false; // one more usable path (any) must be flushed
};

/// Which paths a flush submitted now must reach. Pure: the marks change in start_flush.
FlushPlan plan_flush(std::span<const std::unique_ptr<Path>> paths);

/// Adds `any_live` (the policy's pick, when the plan needs a live path) to the targets,
/// clears the dirty marks the flush covers, and creates one leg per target; `start` puts a
/// leg on its path. The client flush waits in `flush.legs_left`.
void start_flush(EngineIo& flush, FlushPlan plan, Path* any_live,
                 std::span<const std::unique_ptr<Path>> paths,
                 const std::function<void(EngineIo& leg, Path& target)>& start);

/// Records a finished leg (and deletes it). Returns the client flush when it was the last
/// leg, with its result in legs_result; nullptr otherwise.
EngineIo* finish_leg(EngineIo& leg, const IoResult& result);

} // namespace mpiod
