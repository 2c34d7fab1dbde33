// JSON forms of the engine's status snapshots, as the control socket sends them, written
// straight to text (JsonWriter): a listing of 2,048 paths is about 1 MB.
// Field names are part of the control protocol (daemon/control_protocol.md): add fields
// freely, never rename or remove one.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/latency_histogram.hpp"
#include "core/lu_status.hpp"
#include "daemon/control_backend.hpp"
#include "daemon/json_writer.hpp"

namespace mpiod {

/// Which fields the LU and path objects of a reply carry: all of them (the default), or
/// only those named (a listing's `fields` argument). One list filters both kinds of object;
/// names the daemon does not know are ignored.
class StatusFields {
public:
    StatusFields() = default;
    explicit StatusFields(std::vector<std::string> names);
    bool wants(std::string_view name) const noexcept;

private:
    bool all_ = true;
    std::vector<std::string> names_; // sorted
};

/// [[upper_bound_us, count], ...] for the non-empty buckets, in latency order.
void write_json(JsonWriter& w, const LatencyHistogram& h);
/// id, lu, transport, target, wwid, access, access_detail, state, standby_member, weight,
/// last_error, in-doubt and marginal fields, then the counters: in_flight, bytes_in_flight,
/// ios, bytes_read, bytes_written, errors, timeouts, failures, latency_mean_us,
/// latency_ewma_us, latency_histogram.
void write_json(JsonWriter& w, const PathStatus& p, const StatusFields& fields = {});
/// name, wwid, policy, state, size_bytes, rescanning, block_size, in_flight, queued,
/// failovers, io_errors, ios, bytes, in-doubt fields, latency_histogram,
/// queue_wait_histogram, exports (array of strings), paths (array of paths, same fields).
void write_json(JsonWriter& w, const LuStatus& lu, const StatusFields& fields = {});

/// The `status` reply: version, pid, uptime_seconds (against `now`), config_file, lu_count,
/// path_count and path_states (object: state name -> number of paths in it).
void write_status(JsonWriter& w, const DaemonStatus& d, const std::vector<LuStatus>& lus,
                  Clock::time_point now);

/// One snapshot (or a vector of them) as JSON text.
template <class T>
std::string json_text(const T& value, const StatusFields& fields = {}) {
    JsonWriter w;
    write_json(w, value, fields);
    return w.take();
}
template <class T>
std::string json_text(const std::vector<T>& values, const StatusFields& fields = {}) {
    JsonWriter w;
    w.reserve(values.size() * 700);
    w.begin_array();
    for (const auto& v : values) {
        write_json(w, v, fields);
    }
    w.end_array();
    return w.take();
}
inline std::string json_text(const LatencyHistogram& h) {
    JsonWriter w;
    write_json(w, h);
    return w.take();
}

} // namespace mpiod
