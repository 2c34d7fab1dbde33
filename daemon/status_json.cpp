// JSON forms of the status snapshots sent over the control socket.
#include "daemon/status_json.hpp"

#include <algorithm>
#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

namespace mpiod {

namespace {

// Uptime never goes negative, even for a default-constructed start time in a test.
std::int64_t uptime_seconds(Clock::time_point started, Clock::time_point now) {
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(now - started).count();
    return std::max<std::int64_t>(secs, 0);
}

nlohmann::json daemon_fields(const DaemonStatus& d, Clock::time_point now) {
    return {
        {"version", d.version},
        {"pid", d.pid},
        {"uptime_seconds", uptime_seconds(d.started, now)},
        {"config_file", d.config_file},
    };
}

} // namespace

nlohmann::json histogram_json(const LatencyHistogram& h) {
    auto out = nlohmann::json::array();
    const auto& counts = h.counts();
    for (unsigned i = 0; i < counts.size(); ++i) {
        if (counts[i] != 0) {
            out.push_back({LatencyHistogram::upper_bound_us(i), counts[i]});
        }
    }
    return out;
}

void to_json(nlohmann::json& j, const PathCounters& c) {
    j = {
        {"in_flight", c.in_flight},
        {"bytes_in_flight", c.bytes_in_flight},
        {"ios", c.ios},
        {"bytes_read", c.bytes_read},
        {"bytes_written", c.bytes_written},
        {"errors", c.errors},
        {"timeouts", c.timeouts},
        {"failures", c.failures},
        {"latency_mean_us", c.latency_mean_us()},
        {"latency_ewma_us", c.latency_ewma_us},
        {"latency_histogram", histogram_json(c.latency)},
    };
}

void to_json(nlohmann::json& j, const PathStatus& p) {
    j = p.counters; // counters first, then identity fields at the same level
    j["lu"] = p.lu;
    j["id"] = p.id;
    j["transport"] = p.transport;
    j["target"] = p.target;
    j["wwid"] = p.wwid;
    j["access"] = p.access;
    j["access_detail"] = p.access_detail;
    j["state"] = std::string(to_string(p.state));
    j["standby_member"] = p.standby_member;
    j["weight"] = p.weight;
    j["last_error"] = p.last_error;
    j["in_doubt_writes"] = p.in_doubt_writes;
    j["in_doubt_age_ms"] = p.in_doubt_age_ms;
    j["marginal"] = p.marginal;
    j["marginal_for_ms"] = p.marginal_for_ms;
    j["marginal_reason"] = p.marginal_reason;
    j["marginal_entries"] = p.marginal_entries;
}

void to_json(nlohmann::json& j, const LuStatus& lu) {
    j = {
        {"name", lu.name},
        {"wwid", lu.wwid},
        {"policy", lu.policy},
        {"state", lu.state},
        {"size_bytes", lu.size_bytes},
        {"rescanning", lu.rescanning},
        {"block_size", lu.block_size},
        {"in_flight", lu.in_flight},
        {"queued", lu.queued},
        {"failovers", lu.failovers},
        {"io_errors", lu.io_errors},
        {"ios", lu.ios},
        {"bytes_read", lu.bytes_read},
        {"bytes_written", lu.bytes_written},
        {"in_doubt_writes", lu.in_doubt_writes},
        {"kept_writes", lu.kept_writes},
        {"kept_bytes", lu.kept_bytes},
        {"replays", lu.replays},
        {"held", lu.held},
        {"latency_histogram", histogram_json(lu.latency)},
        {"queue_wait_histogram", histogram_json(lu.queue_wait)},
        {"exports", lu.exports},
        {"paths", lu.paths},
    };
}

void to_json(nlohmann::json& j, const DaemonStatus& d) {
    j = daemon_fields(d, Clock::now());
}

nlohmann::json status_json(const DaemonStatus& d, const std::vector<LuStatus>& lus,
                           Clock::time_point now) {
    auto j = daemon_fields(d, now);
    std::size_t paths = 0;
    auto states = nlohmann::json::object();
    for (const auto& lu : lus) {
        paths += lu.paths.size();
        for (const auto& p : lu.paths) {
            auto& n = states[std::string(to_string(p.state))];
            n = n.is_null() ? 1 : n.get<std::size_t>() + 1;
        }
    }
    j["lu_count"] = lus.size();
    j["path_count"] = paths;
    j["path_states"] = std::move(states);
    return j;
}

} // namespace mpiod
