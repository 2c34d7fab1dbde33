// JSON forms of the engine's status snapshots, as the control socket sends them.
// Field names are part of the control protocol (daemon/control_protocol.md): add fields
// freely, never rename or remove one.
#pragma once

#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/clock.hpp"
#include "core/lu_status.hpp"
#include "core/path_counters.hpp"
#include "daemon/control_backend.hpp"

namespace mpiod {

/// in_flight, bytes_in_flight, ios, bytes_read, bytes_written, errors, timeouts, failures,
/// latency_mean_us, latency_ewma_us.
/// [[upper_bound_us, count], ...] for the non-empty buckets, in latency order.
nlohmann::json histogram_json(const LatencyHistogram& h);
void to_json(nlohmann::json& j, const PathCounters& c);
/// lu, id, transport, target, wwid, state, standby_member, weight, last_error, plus the
/// counters' fields at the same level.
void to_json(nlohmann::json& j, const PathStatus& p);
/// name, wwid, policy, state, size_bytes, block_size, in_flight, queued, failovers,
/// io_errors, ios, exports (array of strings), paths (array of paths).
void to_json(nlohmann::json& j, const LuStatus& lu);
/// version, pid, uptime_seconds (against Clock::now()), config_file.
void to_json(nlohmann::json& j, const DaemonStatus& d);

/// The `status` reply: the daemon's fields (uptime against `now`) plus lu_count,
/// path_count and path_states (object: state name -> number of paths in it).
nlohmann::json status_json(const DaemonStatus& d, const std::vector<LuStatus>& lus,
                           Clock::time_point now);

} // namespace mpiod
