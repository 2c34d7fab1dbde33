// Fuzz target: YAML text given to the configuration loader. Bad content must end in a
// ConfigError; any other exception escapes and aborts (libFuzzer records it), as do crashes,
// sanitizer reports and hangs (libFuzzer's -timeout). A configuration that loads must keep the
// promises the daemon builds on.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "config/daemon_config.hpp"
#include "tests/fuzz/fuzz_finding.hpp"

namespace {

bool has_path(const mpiod::DaemonConfig& c, const std::string& id, const std::string& wwid) {
    return std::any_of(c.paths.begin(), c.paths.end(),
                       [&](const mpiod::PathConfig& p) { return p.id == id && p.wwid == wwid; });
}

bool identified_at_run_time(const mpiod::PathConfig& p) {
    return mpiod::is_scsi_uri(p.uri) && p.wwid.empty();
}

bool is_unidentified_path(const mpiod::DaemonConfig& c, const std::string& id) {
    return std::any_of(c.paths.begin(), c.paths.end(), [&](const mpiod::PathConfig& p) {
        return p.id == id && identified_at_run_time(p);
    });
}

void check_loaded(const mpiod::DaemonConfig& c) {
    using mpiod::fuzz::finding;
    if (c.paths.empty() && !c.scan.scsi_generic) {
        finding("a configuration without paths (and without a scan) loaded");
    }
    std::set<std::string> ids;
    std::size_t identified = 0;
    for (const auto& p : c.paths) {
        if (p.id.empty() || p.uri.empty() || !ids.insert(p.id).second) {
            finding("a path with an empty or repeated id, or an empty uri, loaded");
        }
        // Only SCSI paths (iscsi, sg) may leave the wwid to VPD 0x83; NBD reports none.
        if (p.wwid.empty() && !identified_at_run_time(p)) {
            finding("a non-SCSI path without a wwid loaded");
        }
        identified += p.wwid.empty() ? 0 : 1;
    }
    const bool some_unidentified = identified != c.paths.size() || c.scan.scsi_generic;
    std::set<std::string> aliases;
    std::size_t paths_in_lus = 0;
    for (const auto& lu : c.lus) {
        if (lu.alias.empty() || !aliases.insert(lu.alias).second) {
            finding("an LU with an empty or repeated alias loaded");
        }
        // An LU without configured paths is settings for an LU SCSI paths may turn out to reach.
        if (lu.path_ids.empty() && !some_unidentified) {
            finding("an LU without paths loaded while every path has its wwid");
        }
        for (const auto& id : lu.path_ids) {
            if (!has_path(c, id, lu.wwid)) {
                finding("an LU lists a path that is not one of its wwid's");
            }
        }
        for (const auto& id : lu.standby) {
            const bool own =
                std::find(lu.path_ids.begin(), lu.path_ids.end(), id) != lu.path_ids.end();
            if (!own && !is_unidentified_path(c, id) && !c.scan.scsi_generic) {
                finding("a standby path that is neither a path of its LU nor one identified "
                        "at run time");
            }
        }
        paths_in_lus += lu.path_ids.size();
    }
    if (paths_in_lus != identified) {
        finding("paths with a wwid and the LUs' path lists do not match one to one");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        check_loaded(mpiod::parse_config(text, "fuzz.yaml"));
    } catch (const mpiod::ConfigError&) {
        // Refused with a message: the expected outcome for most inputs.
    }
    return 0;
}
