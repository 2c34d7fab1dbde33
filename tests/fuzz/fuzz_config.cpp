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

void check_loaded(const mpiod::DaemonConfig& c) {
    using mpiod::fuzz::finding;
    if (c.paths.empty()) {
        finding("a configuration without paths loaded");
    }
    std::set<std::string> ids;
    for (const auto& p : c.paths) {
        if (p.id.empty() || p.uri.empty() || p.wwid.empty() || !ids.insert(p.id).second) {
            finding("a path with an empty or repeated id, uri or wwid loaded");
        }
    }
    std::set<std::string> aliases;
    std::size_t paths_in_lus = 0;
    for (const auto& lu : c.lus) {
        if (lu.path_ids.empty() || lu.alias.empty() || !aliases.insert(lu.alias).second) {
            finding("an LU without paths, or with an empty or repeated alias, loaded");
        }
        for (const auto& id : lu.path_ids) {
            if (!has_path(c, id, lu.wwid)) {
                finding("an LU lists a path that is not one of its wwid's");
            }
        }
        for (const auto& id : lu.standby) {
            if (std::find(lu.path_ids.begin(), lu.path_ids.end(), id) == lu.path_ids.end()) {
                finding("a standby path that is not a path of its LU");
            }
        }
        paths_in_lus += lu.path_ids.size();
    }
    if (paths_in_lus != c.paths.size()) {
        finding("paths and the LUs' path lists do not match one to one");
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
