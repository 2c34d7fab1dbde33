// The LU table: a vector in configuration order; lookups are linear (a daemon has few LUs).
#include "daemon/lu_table.hpp"

#include <algorithm>

namespace mpiod {

void LuTable::add(std::shared_ptr<LogicalUnit> lu) {
    lus_.push_back(std::move(lu));
}

void LuTable::remove(const std::shared_ptr<LogicalUnit>& lu) {
    std::erase(lus_, lu);
}

std::shared_ptr<LogicalUnit> LuTable::find(const std::string& name_or_wwid) const {
    auto it = std::find_if(lus_.begin(), lus_.end(),
                           [&](const auto& lu) { return lu->name() == name_or_wwid; });
    return it != lus_.end() ? *it : by_wwid(name_or_wwid);
}

ControlResult<std::shared_ptr<LogicalUnit>> LuTable::lookup(const std::string& name_or_wwid) const {
    if (auto lu = find(name_or_wwid)) {
        return lu;
    }
    return ControlError::not_found("no such lu: " + name_or_wwid);
}

std::shared_ptr<LogicalUnit> LuTable::by_wwid(const std::string& wwid) const {
    auto it =
        std::find_if(lus_.begin(), lus_.end(), [&](const auto& lu) { return lu->wwid() == wwid; });
    return it != lus_.end() ? *it : nullptr;
}

LogicalUnit* LuTable::lu_of_path(const std::string& path_id) const {
    auto it = std::find_if(lus_.begin(), lus_.end(),
                           [&](const auto& lu) { return lu->has_path(path_id); });
    return it != lus_.end() ? it->get() : nullptr;
}

ControlResult<LogicalUnit*> LuTable::path_owner(const std::string& path_id) const {
    if (auto* lu = lu_of_path(path_id)) {
        return lu;
    }
    return ControlError::not_found("no such path: " + path_id);
}

} // namespace mpiod
