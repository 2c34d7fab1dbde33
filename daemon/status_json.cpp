// JSON forms of the status snapshots sent over the control socket.
#include "daemon/status_json.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <string>

namespace mpiod {

namespace {

// Uptime never goes negative, even for a default-constructed start time in a test.
std::int64_t uptime_seconds(Clock::time_point started, Clock::time_point now) {
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(now - started).count();
    return std::max<std::int64_t>(secs, 0);
}

// Writes the fields `fields` wants of one object.
class FilteredObject {
public:
    FilteredObject(JsonWriter& w, const StatusFields& fields) : w_(w), fields_(fields) {}

    template <class T>
    void operator()(std::string_view key, const T& value) {
        if (fields_.wants(key)) {
            w_.field(key, value);
        }
    }
    // A field whose value is written by `write` (arrays, nested objects).
    template <class F>
    void with(std::string_view key, F&& write) {
        if (fields_.wants(key)) {
            w_.key(key);
            write();
        }
    }

private:
    JsonWriter& w_;
    const StatusFields& fields_;
};

} // namespace

StatusFields::StatusFields(std::vector<std::string> names) : all_(false), names_(std::move(names)) {
    std::sort(names_.begin(), names_.end());
}

bool StatusFields::wants(std::string_view name) const noexcept {
    return all_ || std::binary_search(names_.begin(), names_.end(), name);
}

void write_json(JsonWriter& w, const LatencyHistogram& h) {
    w.begin_array();
    const auto& counts = h.counts();
    for (unsigned i = 0; i < counts.size(); ++i) {
        if (counts[i] != 0) {
            w.begin_array();
            w.value(LatencyHistogram::upper_bound_us(i));
            w.value(counts[i]);
            w.end_array();
        }
    }
    w.end_array();
}

void write_json(JsonWriter& w, const PathStatus& p, const StatusFields& fields) {
    const auto& c = p.counters;
    FilteredObject f(w, fields);
    w.begin_object();
    f("id", p.id);
    f("lu", p.lu);
    f("transport", p.transport);
    f("target", p.target);
    f("wwid", p.wwid);
    f("access", p.access);
    f("access_detail", p.access_detail);
    f("state", to_string(p.state));
    f("standby_member", p.standby_member);
    f("weight", p.weight);
    f("last_error", p.last_error);
    f("in_doubt_writes", p.in_doubt_writes);
    f("in_doubt_age_ms", p.in_doubt_age_ms);
    f("marginal", p.marginal);
    f("marginal_for_ms", p.marginal_for_ms);
    f("marginal_reason", p.marginal_reason);
    f("marginal_entries", p.marginal_entries);
    f("in_flight", c.in_flight);
    f("bytes_in_flight", c.bytes_in_flight);
    f("ios", c.ios);
    f("bytes_read", c.bytes_read);
    f("bytes_written", c.bytes_written);
    f("errors", c.errors);
    f("timeouts", c.timeouts);
    f("failures", c.failures);
    f("latency_mean_us", c.latency_mean_us());
    f("latency_ewma_us", c.latency_ewma_us);
    f.with("latency_histogram", [&] { write_json(w, c.latency); });
    w.end_object();
}

void write_json(JsonWriter& w, const LuStatus& lu, const StatusFields& fields) {
    FilteredObject f(w, fields);
    w.begin_object();
    f("name", lu.name);
    f("wwid", lu.wwid);
    f("policy", lu.policy);
    f("state", lu.state);
    f("size_bytes", lu.size_bytes);
    f("rescanning", lu.rescanning);
    f("block_size", lu.block_size);
    f("in_flight", lu.in_flight);
    f("queued", lu.queued);
    f("failovers", lu.failovers);
    f("io_errors", lu.io_errors);
    f("ios", lu.ios);
    f("bytes_read", lu.bytes_read);
    f("bytes_written", lu.bytes_written);
    f("in_doubt_writes", lu.in_doubt_writes);
    f("kept_writes", lu.kept_writes);
    f("kept_bytes", lu.kept_bytes);
    f("replays", lu.replays);
    f("held", lu.held);
    f.with("latency_histogram", [&] { write_json(w, lu.latency); });
    f.with("queue_wait_histogram", [&] { write_json(w, lu.queue_wait); });
    f.with("exports", [&] {
        w.begin_array();
        for (const auto& e : lu.exports) {
            w.value(e);
        }
        w.end_array();
    });
    f.with("paths", [&] {
        w.begin_array();
        for (const auto& p : lu.paths) {
            write_json(w, p, fields);
        }
        w.end_array();
    });
    w.end_object();
}

void write_status(JsonWriter& w, const DaemonStatus& d, const std::vector<LuStatus>& lus,
                  Clock::time_point now) {
    std::size_t paths = 0;
    std::map<std::string_view, std::size_t> states;
    for (const auto& lu : lus) {
        paths += lu.paths.size();
        for (const auto& p : lu.paths) {
            ++states[to_string(p.state)];
        }
    }
    w.begin_object();
    w.field("version", d.version);
    w.field("pid", d.pid);
    w.field("uptime_seconds", uptime_seconds(d.started, now));
    w.field("config_file", d.config_file);
    w.field("lu_count", lus.size());
    w.field("path_count", paths);
    w.key("path_states");
    w.begin_object();
    for (const auto& [state, n] : states) {
        w.field(state, n);
    }
    w.end_object();
    w.end_object();
}

} // namespace mpiod
