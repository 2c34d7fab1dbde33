// Snapshots of engine state for the control socket. Plain values: copying one never
// touches a live object.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/latency_histogram.hpp"
#include "core/path_counters.hpp"
#include "core/path_state.hpp"

namespace mpiod {

struct PathStatus {
    std::string id;                          // operator-visible path name, unique in the daemon
    std::string lu;                          // owning LU's name
    std::string transport;                   // "nbd"
    std::string target;                      // Transport::describe()
    std::string wwid;                        // identity reported or configured
    std::string access = "active/optimized"; // ALUA access state (to_string(PathAccess))
    std::string access_detail;               // e.g. "tpg 1"; empty when the path has none
    PathState state = PathState::failed;
    bool standby_member = false; // configured in the standby subset
    std::uint32_t weight = 1;
    std::string last_error;
    PathCounters counters;
    std::uint64_t in_doubt_writes = 0; // writes whose attempt here may still land
    std::uint64_t in_doubt_age_ms = 0; // how long the oldest of them has been in doubt

    bool marginal = false;              // held back: it failed too often of late
    std::uint64_t marginal_for_ms = 0;  // how long it has been marginal
    std::string marginal_reason;        // why it became marginal ("3 failures within 60s")
    std::uint64_t marginal_entries = 0; // times it became marginal
};

struct LuStatus {
    std::string name;
    std::string wwid;
    std::string policy;
    std::string state; // "ready", "queueing", "failing", "starting"
    std::uint64_t size_bytes = 0;
    bool rescanning = false; // a capacity rescan (mpiod-ctl resize) is running
    std::uint32_t block_size = 0;
    std::uint64_t in_flight = 0;
    std::uint64_t queued = 0;
    std::uint64_t failovers = 0;       // I/Os resubmitted on another path
    std::uint64_t io_errors = 0;       // I/Os completed to the client with an error
    std::uint64_t ios = 0;             // I/Os completed to the client
    std::uint64_t bytes_read = 0;      // by client reads that succeeded
    std::uint64_t bytes_written = 0;   // by client writes that succeeded
    std::uint64_t in_doubt_writes = 0; // write attempts on hung paths that may still land
    std::uint64_t kept_writes = 0;     // later writes over them, kept to be written again
    std::uint64_t kept_bytes = 0;
    std::uint64_t replays = 0;        // kept writes written again after a resolution
    std::uint64_t held = 0;           // I/O waiting for a replay or for in_doubt_memory
    LatencyHistogram latency;         // client-visible latency (failovers and queueing included)
    LatencyHistogram queue_wait;      // time each I/O waited in the no-path queue (no usable path)
    std::vector<std::string> exports; // where the LU is exported (sockets, devices)
    std::vector<PathStatus> paths;
};

} // namespace mpiod
