// Generated LU names that survive restarts and reboots (multipath-tools' user_friendly_names):
// an LU with no configured alias is named mpatha, mpathb, ... and the choice is kept as a
// "NAME WWID" line in a bindings file under the state directory.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace mpiod {

class LuBindings {
public:
    static constexpr const char* default_file = "/var/lib/mpiod/bindings";

    /// Reads `file` if it exists. Never throws for the file's sake: a line it cannot use is
    /// logged with its FILE:LINE and skipped, an unreadable file is logged and left alone.
    explicit LuBindings(std::filesystem::path file = default_file);

    /// The name bound to `wwid`, or a newly allocated one (the lowest free mpathX) that is
    /// written to the file before it is returned. `taken` holds names `wwid` must not get:
    /// configured aliases and the names of LUs already running. A bound name found in
    /// `taken` (an alias configured since) is given up: the WWID gets a new name and the old
    /// line leaves the file. When the file cannot be written the name is still returned and
    /// kept for this run, and an error says it will not survive a restart.
    std::string name_for(const std::string& wwid, const std::set<std::string>& taken);

    /// The name bound to `wwid` so far, or "" when it has none.
    std::string bound_name(const std::string& wwid) const;

    const std::filesystem::path& file() const noexcept { return file_; }

    /// The index-th generated name: 0 -> mpatha, 25 -> mpathz, 26 -> mpathaa, 52 -> mpathba.
    static std::string generated_name(std::size_t index);

private:
    using Binding = std::pair<std::string, std::string>; // name, wwid

    void load();
    void load_line(const std::string& line, std::size_t number);
    std::string first_free_name(const std::set<std::string>& taken) const;
    void unbind(const std::string& wwid);
    // Rewrites the file (temp file, fsync, rename, fsync of the directory) as it is on disk
    // now, minus the dropped bindings, plus every binding it lacks. Logs on failure; what
    // was not written is written by the next save.
    void save();

    std::filesystem::path file_;
    bool file_usable_ = true; // false when the file exists but could not be read
    std::map<std::string, std::string> name_of_wwid_;
    std::map<std::string, std::string> wwid_of_name_;
    std::set<std::string> skipped_names_; // names of lines skipped as duplicates: never reused
    std::vector<Binding> order_;          // file order, then allocation order
    std::vector<Binding> dropped_;        // given up, still to be removed from the file
};

} // namespace mpiod
