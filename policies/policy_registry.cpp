// Name -> policy table.
#include "policies/policy_registry.hpp"

#include <array>

#include "policies/failover_only.hpp"
#include "policies/least_blocks.hpp"
#include "policies/least_queue_depth.hpp"
#include "policies/round_robin.hpp"
#include "policies/round_robin_with_subset.hpp"
#include "policies/service_time.hpp"
#include "policies/weighted_paths.hpp"

namespace mpiod {

namespace {

struct Entry {
    std::string_view name;
    std::unique_ptr<PathSelector> (*make)();
};

template <class Policy>
std::unique_ptr<PathSelector> make() {
    return std::make_unique<Policy>();
}

// Names are spelled once, here; each class's name() must agree (a unit test checks it).
constexpr std::array<Entry, 7> entries{{
    {"failover-only", &make<FailoverOnly>},
    {"round-robin", &make<RoundRobin>},
    {"round-robin-with-subset", &make<RoundRobinWithSubset>},
    {"least-queue-depth", &make<LeastQueueDepth>},
    {"weighted-paths", &make<WeightedPaths>},
    {"least-blocks", &make<LeastBlocks>},
    {"service-time", &make<ServiceTime>},
}};

constexpr std::array<std::string_view, entries.size()> names = [] {
    std::array<std::string_view, entries.size()> out{};
    for (std::size_t i = 0; i < entries.size(); ++i) {
        out[i] = entries[i].name;
    }
    return out;
}();

} // namespace

std::unique_ptr<PathSelector> make_policy(std::string_view name) {
    for (const Entry& e : entries) {
        if (e.name == name) {
            return e.make();
        }
    }
    return nullptr;
}

std::span<const std::string_view> policy_names() noexcept {
    return names;
}

} // namespace mpiod
