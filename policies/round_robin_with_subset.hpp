// "round-robin-with-subset": Windows MSDSM's Round Robin with Subset.
#pragma once

#include "policies/round_robin.hpp"

namespace mpiod {

/// Round robin over the active subset; the standby subset carries I/O only while no member
/// of the active subset is usable.
///
/// In mpiod the subset is not the policy's business: "standby" is a path role configured
/// per LU (PathSpec::standby), and the engine already passes only the active subset while
/// any member of it is usable, and the standby members only when none is. So this policy
/// selects exactly like RoundRobin over what it is given; it exists under its own name so
/// configurations written for MSDSM read the same here.
class RoundRobinWithSubset final : public RoundRobin {
public:
    std::string_view name() const noexcept override { return "round-robin-with-subset"; }
};

} // namespace mpiod
