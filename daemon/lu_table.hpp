// The daemon's LUs in configuration order, and the one place that finds an LU by name,
// by wwid or by one of its paths.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/control_result.hpp"
#include "core/logical_unit.hpp"

namespace mpiod {

class LuTable {
public:
    using Lus = std::vector<std::shared_ptr<LogicalUnit>>;

    /// Appends (configuration order is the order of adding).
    void add(std::shared_ptr<LogicalUnit> lu);
    /// Forgets the LU; the caller stops it.
    void remove(const std::shared_ptr<LogicalUnit>& lu);

    /// By name, else by wwid (names win, as in `show-lu`); null when none.
    std::shared_ptr<LogicalUnit> find(const std::string& name_or_wwid) const;
    /// find(), or not_found "no such lu: X" for the operator.
    ControlResult<std::shared_ptr<LogicalUnit>> lookup(const std::string& name_or_wwid) const;
    std::shared_ptr<LogicalUnit> by_wwid(const std::string& wwid) const;
    /// The LU that has the path, or null.
    LogicalUnit* lu_of_path(const std::string& path_id) const;
    /// lu_of_path(), or not_found "no such path: X" for the operator.
    ControlResult<LogicalUnit*> path_owner(const std::string& path_id) const;

    /// A copy, for loops that may add or remove.
    Lus snapshot() const { return lus_; }
    Lus::const_iterator begin() const noexcept { return lus_.begin(); }
    Lus::const_iterator end() const noexcept { return lus_.end(); }
    std::size_t size() const noexcept { return lus_.size(); }
    bool empty() const noexcept { return lus_.empty(); }

private:
    Lus lus_;
};

} // namespace mpiod
