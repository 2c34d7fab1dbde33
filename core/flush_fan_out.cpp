// Flush fan-out over the paths that carried writes.
#include "core/flush_fan_out.hpp"

#include <algorithm>
#include <utility>

namespace mpiod {

FlushPlan plan_flush(std::span<const std::unique_ptr<Path>> paths) {
    FlushPlan plan;
    bool orphaned_writes = false;
    for (const auto& p : paths) {
        if (!p->dirty) {
            continue;
        }
        if (p->carries_io()) {
            plan.targets.push_back(p.get());
        } else {
            orphaned_writes = true;
        }
    }
    plan.needs_live_path = orphaned_writes || plan.targets.empty();
    return plan;
}

void start_flush(EngineIo& flush, FlushPlan plan, Path* any_live,
                 std::span<const std::unique_ptr<Path>> paths,
                 const std::function<void(EngineIo& leg, Path& target)>& start) {
    if (plan.needs_live_path && any_live != nullptr) {
        if (std::find(plan.targets.begin(), plan.targets.end(), any_live) == plan.targets.end()) {
            plan.targets.push_back(any_live);
        }
        for (const auto& p : paths) {
            if (!p->carries_io()) {
                p->dirty = false; // covered by the flush on the live path
            }
        }
    }
    flush.legs_left = static_cast<std::uint32_t>(plan.targets.size());
    flush.legs_result = IoResult::success();
    for (Path* target : plan.targets) {
        target->dirty = false;
        auto* leg = new EngineIo;
        leg->io.op = IoOp::flush;
        leg->parent = &flush;
        start(*leg, *target);
    }
}

EngineIo* finish_leg(EngineIo& leg, const IoResult& result) {
    EngineIo& parent = *leg.parent;
    delete &leg;
    if (!result.ok() && parent.legs_result.ok()) {
        parent.legs_result = result;
    }
    return --parent.legs_left == 0 ? &parent : nullptr;
}

} // namespace mpiod
