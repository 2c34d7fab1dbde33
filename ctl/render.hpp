// Human output of mpiod-ctl: the daemon's JSON results (daemon/control_protocol.md) as
// aligned text. Pure functions; a missing or mistyped field shows as "-", never throws.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace mpiod::ctl {

/// `status` result: version, pid, uptime, config file, LU and path counts by state.
std::string render_status(const nlohmann::json& status);
/// `list-lus` result (array of LUs): NAME WWID POLICY STATE SIZE PATHS EXPORT, where
/// PATHS is usable (active or standby)/total.
std::string render_lus(const nlohmann::json& result);
/// `list-paths` result (array of paths):
/// LU PATH TRANSPORT STATE INFLIGHT IOS ERRORS LAT(us) TARGET (LAT is the mean).
std::string render_paths(const nlohmann::json& result);
/// `show-lu` result (one LU): a header block, its paths table, then last errors if any.
std::string render_lu(const nlohmann::json& lu);

/// The fields render_lus and render_paths read: text listings ask the daemon for only
/// these (the `fields` argument), a third of the reply for 2,048 paths. A daemon that
/// does not know the argument sends every field, which renders the same.
nlohmann::json lus_fields();
nlohmann::json paths_fields();

} // namespace mpiod::ctl
