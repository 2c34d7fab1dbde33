// Builds the LuConfig list: one LU per distinct path wwid, then each `lus:` entry applied to
// its LU, then the checks that need every LU (aliases, socket paths).
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "config/config_node.hpp"
#include "config/daemon_config.hpp"

namespace mpiod {

class LuAssembly {
public:
    /// Adds a path to the LU of its wwid, creating the LU on first use. `wwid_node` is
    /// where an alias derived from the wwid is blamed if it turns out unusable.
    void add_path(const PathConfig& path, const ConfigNode& wwid_node);

    /// A path whose wwid is learnt at run time (SCSI VPD): `lus:` entries may then name
    /// wwids no configured path has, and name this path in standby/weights/throughput.
    void add_identified_later(const std::string& path_id) { unidentified_.push_back(path_id); }

    /// Paths are also found at run time (scan: scsi_generic): `lus:` entries may name any
    /// wwid, and any path id in standby/weights/throughput.
    void expect_discovered_paths() { discovered_ = true; }

    /// Applies one `lus:` entry; call after every add_path(). Settings start from `defaults`.
    void apply_entry(const ConfigNode& entry, const LuSettings& defaults);

    /// The finished LUs in order of first use. LUs without an entry get `defaults` and their
    /// wwid as alias. Checks aliases are valid and unique and that <export_dir>/<alias>.sock
    /// fits in a Unix socket address.
    std::vector<LuConfig> finish(const LuSettings& defaults,
                                 const std::filesystem::path& export_dir);

private:
    struct Draft {
        LuConfig lu;
        ConfigNode alias_origin; // the alias key, or the first path's wwid it defaults to
        bool has_entry = false;
        bool alias_given = false;
    };

    std::string path_of(const LuConfig& lu, const ConfigNode& where, std::string id) const;

    std::vector<Draft> drafts_;
    std::map<std::string, std::size_t> index_; // wwid -> position in drafts_
    std::vector<std::string> unidentified_;    // ids of paths without a configured wwid
    bool discovered_ = false;                  // paths the daemon finds itself
};

} // namespace mpiod
