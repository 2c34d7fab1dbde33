// The reload's diff: paths by id (uri and wwid), LUs by wwid, daemon-wide settings by value.
#include "config/config_diff.hpp"

#include <algorithm>

namespace mpiod {

namespace {

const PathConfig* find_path(const DaemonConfig& c, const std::string& id) {
    auto it = std::find_if(c.paths.begin(), c.paths.end(),
                           [&](const PathConfig& p) { return p.id == id; });
    return it == c.paths.end() ? nullptr : &*it;
}

const LuConfig* find_lu(const DaemonConfig& c, const std::string& wwid) {
    auto it =
        std::find_if(c.lus.begin(), c.lus.end(), [&](const LuConfig& l) { return l.wwid == wwid; });
    return it == c.lus.end() ? nullptr : &*it;
}

// Present in `other` with the same target and identity.
bool kept_in(const DaemonConfig& other, const PathConfig& p) {
    const auto* q = find_path(other, p.id);
    return q != nullptr && q->uri == p.uri && q->wwid == p.wwid;
}

bool export_changed(const ExportConfig& a, const ExportConfig& b) {
    return a.dir != b.dir || a.tcp != b.tcp || a.kind != b.kind || a.fuse_dir != b.fuse_dir ||
           a.queues != b.queues;
}

} // namespace

LuConfig lu_config_for(const DaemonConfig& config, const std::string& wwid) {
    if (const auto* lc = find_lu(config, wwid)) {
        return *lc;
    }
    LuConfig lc;
    lc.wwid = wwid;
    lc.alias = wwid;
    lc.settings = config.defaults;
    return lc;
}

ConfigDiff diff_config(const DaemonConfig& running, const DaemonConfig& next) {
    ConfigDiff d;
    for (const auto& p : running.paths) {
        if (!kept_in(next, p)) {
            d.removed_paths.push_back(p.id);
        }
    }
    for (const auto& p : next.paths) {
        if (kept_in(running, p)) {
            continue;
        }
        AddedPath added{p, std::nullopt};
        if (!p.wwid.empty()) {
            added.lu = lu_config_for(next, p.wwid);
        }
        d.added_paths.push_back(std::move(added));
    }
    for (const auto& lc : next.lus) {
        const auto* now = find_lu(running, lc.wwid);
        if (now == nullptr) {
            continue; // a new LU: created with these settings when its first path comes
        }
        if (lc.alias_given && lc.alias != now->alias) {
            d.renamed_lus.push_back({lc.wwid, lc.alias});
        }
        if (!(lc.settings == now->settings)) {
            d.changed_lus.push_back({lc.wwid, lc.settings});
        }
    }
    if (export_changed(running.exports, next.exports)) {
        d.restart_only.emplace_back("export");
    }
    if (running.control_socket != next.control_socket) {
        d.restart_only.emplace_back("control_socket");
    }
    if (running.metrics != next.metrics) {
        d.restart_only.emplace_back("metrics");
    }
    if (running.bindings_file != next.bindings_file) {
        d.restart_only.emplace_back("bindings_file");
    }
    if (running.log_level != next.log_level) {
        d.log_level = next.log_level;
    }
    if (running.busy_poll != next.busy_poll) {
        d.busy_poll = next.busy_poll;
    }
    return d;
}

} // namespace mpiod
