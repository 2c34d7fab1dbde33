// config.scan -> extra PathConfig entries.
#include "daemon/scanned_paths.hpp"

#include <algorithm>
#include <optional>
#include <string>

#include <sys/stat.h>

#include <spdlog/spdlog.h>

#include "transports/sg/scsi_generic_scan.hpp"

namespace mpiod {

namespace {

constexpr int disk_type = 0;
constexpr std::string_view sg_scheme = "sg://";

std::optional<dev_t> device_number(const std::filesystem::path& node) {
    struct stat st {};
    if (::stat(node.c_str(), &st) != 0 || !S_ISCHR(st.st_mode)) {
        return std::nullopt;
    }
    return st.st_rdev;
}

bool names_device(const PathConfig& p, const ScsiGenericDevice& d) {
    if (p.uri.rfind(sg_scheme, 0) != 0) {
        return false;
    }
    const std::filesystem::path node = p.uri.substr(sg_scheme.size());
    auto configured = device_number(node);
    auto scanned = device_number(d.node);
    if (configured && scanned) {
        return *configured == *scanned;
    }
    return node.lexically_normal() == d.node.lexically_normal();
}

} // namespace

void add_scanned_paths(DaemonConfig& config, const std::filesystem::path& sysfs_root) {
    if (!config.scan.scsi_generic) {
        return;
    }
    const std::size_t configured = config.paths.size();
    auto id_taken = [&config](const std::string& id) {
        return std::any_of(config.paths.begin(), config.paths.end(),
                           [&id](const PathConfig& p) { return p.id == id; });
    };
    for (const ScsiGenericDevice& d : scan_scsi_generic(sysfs_root)) {
        if (d.type != disk_type) {
            spdlog::debug("scan: {} ({}) is not a disk (type {}); left alone", d.name, d.hctl,
                          d.type);
            continue;
        }
        const auto& ex = config.scan.exclude;
        if (std::find(ex.begin(), ex.end(), d.name) != ex.end()) {
            spdlog::info("scan: {} ({} {} {}) excluded by the configuration", d.name, d.hctl,
                         d.vendor, d.model);
            continue;
        }
        if (std::any_of(config.paths.begin(), config.paths.begin() + configured,
                        [&d](const PathConfig& p) { return names_device(p, d); })) {
            continue;
        }
        PathConfig p;
        p.id = id_taken(d.name) ? d.name + ".scan" : d.name;
        p.uri = std::string(sg_scheme) + d.node.string();
        p.scanned = true;
        config.paths.push_back(p);
        spdlog::info("scan: path {} = {} ({} {} {}{}{})", p.id, d.node.string(), d.hctl, d.vendor,
                     d.model, d.block.empty() ? "" : ", ", d.block);
    }
}

} // namespace mpiod
