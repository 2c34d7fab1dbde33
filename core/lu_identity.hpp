// Who a log line of the engine is about: the LU's name and WWID, owned by the LogicalUnit and
// read by its parts (paths, queue, checker) when they log.
#pragma once

#include <string>

namespace mpiod {

struct LuIdentity {
    std::string name;
    std::string wwid; // may be learnt from the first path that opens
};

} // namespace mpiod
