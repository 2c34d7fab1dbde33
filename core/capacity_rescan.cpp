// Capacity rescan bookkeeping and the agreement rule.
#include "core/capacity_rescan.hpp"

#include <algorithm>
#include <utility>

namespace mpiod {

CapacityRescan::CapacityRescan(std::span<const std::unique_ptr<Path>> paths,
                               Completion<ControlResult<std::string>> done)
    : done_(std::move(done)) {
    for (const auto& p : paths) {
        if (is_usable(p->state())) {
            left_.push_back(p.get());
        }
    }
}

Path* CapacityRescan::next() {
    while (!left_.empty()) {
        Path* p = left_.front();
        left_.erase(left_.begin());
        if (is_usable(p->state())) {
            current_ = p;
            return p;
        }
    }
    return nullptr;
}

CapacityVerdict judge_capacity(std::span<const std::unique_ptr<Path>> paths,
                               std::uint64_t current_size) {
    CapacityVerdict v;
    bool agree = true;
    for (const auto& p : paths) {
        if (!is_usable(p->state())) {
            continue;
        }
        v.sizes += (v.sizes.empty() ? "" : ", ") + p->id() + " " + std::to_string(p->reported_size);
        if (v.size != 0 && p->reported_size != v.size) {
            agree = false;
        }
        v.size = std::max(v.size, p->reported_size);
    }
    if (v.size == 0) {
        v.kind = CapacityVerdict::Kind::no_path;
    } else if (!agree) {
        v.kind = CapacityVerdict::Kind::disagree;
    } else {
        v.kind = v.size == current_size ? CapacityVerdict::Kind::unchanged
                                        : CapacityVerdict::Kind::grows;
    }
    return v;
}

} // namespace mpiod
