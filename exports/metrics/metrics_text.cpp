// Rendering status snapshots as Prometheus text: families, labels, histograms.
#include "exports/metrics/metrics_text.hpp"

#include <algorithm>
#include <functional>
#include <initializer_list>

#include "core/path_state.hpp"

namespace mpiod {

namespace {

// The LU states LogicalUnit::status() reports; an unknown one is shown as well.
constexpr std::array<std::string_view, 4> lu_states{"starting", "ready", "queueing", "failing"};

std::string escape_help(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

// `name="value"` pairs, joined with commas.
std::string label_set(std::initializer_list<std::pair<std::string_view, std::string_view>> labels) {
    std::string out;
    for (const auto& [name, value] : labels) {
        if (!out.empty()) {
            out += ',';
        }
        out += name;
        out += "=\"";
        out += escape_label_value(value);
        out += '"';
    }
    return out;
}

std::string lu_labels(const LuStatus& lu) {
    return label_set({{"lu", lu.name}, {"wwid", lu.wwid}});
}

std::string path_labels(const PathStatus& p) {
    return label_set({{"lu", p.lu}, {"path", p.id}, {"wwid", p.wwid}});
}

class Exposition {
public:
    void family(std::string_view name, std::string_view type, std::string_view help) {
        out_ += "# HELP ";
        out_ += name;
        out_ += ' ';
        out_ += escape_help(help);
        out_ += "\n# TYPE ";
        out_ += name;
        out_ += ' ';
        out_ += type;
        out_ += '\n';
    }

    void sample(std::string_view name, const std::string& labels, std::string_view value) {
        out_ += name;
        if (!labels.empty()) {
            out_ += '{';
            out_ += labels;
            out_ += '}';
        }
        out_ += ' ';
        out_ += value;
        out_ += '\n';
    }

    void sample(std::string_view name, const std::string& labels, std::uint64_t value) {
        sample(name, labels, std::to_string(value));
    }

    /// _bucket (cumulative, le in seconds, then +Inf), _sum (seconds) and _count.
    void histogram(std::string_view name, const std::string& labels, const LatencyHistogram& h) {
        const std::string base(name);
        const std::string sep = labels.empty() ? "" : ",";
        const auto& counts = h.counts();
        std::uint64_t cumulative = 0;
        unsigned next = 0; // the first fine bucket not yet added
        for (std::uint64_t bound : metrics_bucket_bounds_us) {
            // Fine bucket i holds whole-µs latencies up to upper_bound_us(i): all below `bound`.
            while (next < counts.size() && LatencyHistogram::upper_bound_us(next) < bound) {
                cumulative += counts[next++];
            }
            sample(base + "_bucket", labels + sep + "le=\"" + seconds_text(bound) + '"',
                   cumulative);
        }
        std::uint64_t total = 0;
        for (auto c : counts) {
            total += c;
        }
        sample(base + "_bucket", labels + sep + "le=\"+Inf\"", total);
        sample(base + "_sum", labels, seconds_text(h.sum_us()));
        sample(base + "_count", labels, total);
    }

    std::string take() { return std::move(out_); }

private:
    std::string out_;
};

using LuValue = std::function<std::uint64_t(const LuStatus&)>;
using PathValue = std::function<std::uint64_t(const PathStatus&)>;

struct LuFamily {
    std::string_view name;
    std::string_view type;
    std::string_view help;
    LuValue value;
};

struct PathFamily {
    std::string_view name;
    std::string_view type;
    std::string_view help;
    PathValue value;
};

const std::vector<LuFamily>& lu_families() {
    static const std::vector<LuFamily> families{
        {"mpiod_lu_ios_total", "counter", "I/Os completed to clients, any outcome.",
         [](const LuStatus& l) { return l.ios; }},
        {"mpiod_lu_read_bytes_total", "counter", "Bytes read by client reads that succeeded.",
         [](const LuStatus& l) { return l.bytes_read; }},
        {"mpiod_lu_written_bytes_total", "counter",
         "Bytes written by client writes that succeeded.",
         [](const LuStatus& l) { return l.bytes_written; }},
        {"mpiod_lu_io_errors_total", "counter", "I/Os completed to clients with an error.",
         [](const LuStatus& l) { return l.io_errors; }},
        {"mpiod_lu_failovers_total", "counter",
         "I/O attempts resubmitted on another path after a path error.",
         [](const LuStatus& l) { return l.failovers; }},
        {"mpiod_lu_in_flight_ios", "gauge",
         "Client I/Os not yet completed (those queued for a path included).",
         [](const LuStatus& l) { return l.in_flight; }},
        {"mpiod_lu_queued_ios", "gauge", "I/Os waiting because the LU has no usable path.",
         [](const LuStatus& l) { return l.queued; }},
        {"mpiod_lu_size_bytes", "gauge", "Capacity of the LU.",
         [](const LuStatus& l) { return l.size_bytes; }},
        {"mpiod_lu_in_doubt_writes", "gauge", "Write attempts on hung paths that may still land.",
         [](const LuStatus& l) { return l.in_doubt_writes; }},
        {"mpiod_lu_kept_writes", "gauge",
         "Later writes over in-doubt ranges, kept to be written again.",
         [](const LuStatus& l) { return l.kept_writes; }},
        {"mpiod_lu_kept_bytes", "gauge", "Bytes of the kept writes.",
         [](const LuStatus& l) { return l.kept_bytes; }},
        {"mpiod_lu_replays_total", "counter",
         "Kept writes written again after an in-doubt write resolved.",
         [](const LuStatus& l) { return l.replays; }},
        {"mpiod_lu_held_ios", "gauge", "I/Os waiting for a replay or for in_doubt_memory.",
         [](const LuStatus& l) { return l.held; }},
    };
    return families;
}

const std::vector<PathFamily>& path_families() {
    static const std::vector<PathFamily> families{
        {"mpiod_path_ios_total", "counter", "I/Os completed on the path, any outcome.",
         [](const PathStatus& p) { return p.counters.ios; }},
        {"mpiod_path_read_bytes_total", "counter", "Bytes read through the path.",
         [](const PathStatus& p) { return p.counters.bytes_read; }},
        {"mpiod_path_written_bytes_total", "counter", "Bytes written through the path.",
         [](const PathStatus& p) { return p.counters.bytes_written; }},
        {"mpiod_path_errors_total", "counter", "I/Os that ended in an error on the path.",
         [](const PathStatus& p) { return p.counters.errors; }},
        {"mpiod_path_timeouts_total", "counter", "I/Os that passed io_timeout on the path.",
         [](const PathStatus& p) { return p.counters.timeouts; }},
        {"mpiod_path_failovers_total", "counter",
         "Times the path failed, its I/O failing over to the other paths.",
         [](const PathStatus& p) { return p.counters.failures; }},
        {"mpiod_path_in_flight_ios", "gauge", "I/Os in flight on the path.",
         [](const PathStatus& p) { return std::uint64_t{p.counters.in_flight}; }},
        {"mpiod_path_in_flight_bytes", "gauge", "Bytes of the I/Os in flight on the path.",
         [](const PathStatus& p) { return p.counters.bytes_in_flight; }},
        {"mpiod_path_in_doubt_writes", "gauge",
         "Writes whose attempt on this hung path may still land.",
         [](const PathStatus& p) { return p.in_doubt_writes; }},
        {"mpiod_path_marginal", "gauge",
         "1 while the path is held as marginal (used only when nothing healthier is usable).",
         [](const PathStatus& p) { return std::uint64_t{p.marginal ? 1u : 0u}; }},
        {"mpiod_path_marginal_entries_total", "counter", "Times the path became marginal.",
         [](const PathStatus& p) { return p.marginal_entries; }},
    };
    return families;
}

void lu_state_family(Exposition& e, const std::vector<LuStatus>& lus) {
    e.family("mpiod_lu_state", "gauge",
             "1 for the LU's state (starting, ready, queueing, failing), 0 for the others.");
    for (const auto& lu : lus) {
        const auto labels = lu_labels(lu);
        for (auto state : lu_states) {
            e.sample("mpiod_lu_state", labels + ",state=\"" + std::string(state) + '"',
                     lu.state == state ? 1 : 0);
        }
        if (std::find(lu_states.begin(), lu_states.end(), lu.state) == lu_states.end()) {
            e.sample("mpiod_lu_state", labels + ",state=\"" + escape_label_value(lu.state) + '"',
                     1);
        }
    }
}

void path_state_family(Exposition& e, const std::vector<LuStatus>& lus) {
    e.family("mpiod_path_state", "gauge",
             "1 for the path's state (active, standby, failed, admin-failed, reinstating), 0 "
             "for the others.");
    for (const auto& lu : lus) {
        for (const auto& p : lu.paths) {
            const auto labels = path_labels(p);
            for (auto state : all_path_states) {
                e.sample("mpiod_path_state",
                         labels + ",state=\"" + std::string(to_string(state)) + '"',
                         p.state == state ? 1 : 0);
            }
        }
    }
}

} // namespace

std::string escape_label_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        switch (c) {
        case '\\':
            out += "\\\\";
            break;
        case '"':
            out += "\\\"";
            break;
        case '\n':
            out += "\\n";
            break;
        default:
            out += c;
        }
    }
    return out;
}

std::string seconds_text(std::uint64_t us) {
    std::string out = std::to_string(us / 1'000'000);
    if (const auto frac = us % 1'000'000; frac != 0) {
        std::string digits = std::to_string(frac);
        digits.insert(0, 6 - digits.size(), '0');
        digits.erase(digits.find_last_not_of('0') + 1);
        out += '.' + digits;
    }
    return out;
}

std::string render_metrics(const std::vector<LuStatus>& lus, std::string_view version) {
    Exposition e;
    e.family("mpiod_build_info", "gauge", "Always 1; the version label says which mpiod runs.");
    e.sample("mpiod_build_info", label_set({{"version", version}}), 1);

    for (const auto& f : lu_families()) {
        e.family(f.name, f.type, f.help);
        for (const auto& lu : lus) {
            e.sample(f.name, lu_labels(lu), f.value(lu));
        }
    }
    lu_state_family(e, lus);
    e.family("mpiod_lu_io_latency_seconds", "histogram",
             "Client-visible I/O latency: failovers and queueing for a path included.");
    for (const auto& lu : lus) {
        e.histogram("mpiod_lu_io_latency_seconds", lu_labels(lu), lu.latency);
    }
    e.family("mpiod_lu_queue_wait_seconds", "histogram",
             "Time each I/O waited in the queue while the LU had no usable path.");
    for (const auto& lu : lus) {
        e.histogram("mpiod_lu_queue_wait_seconds", lu_labels(lu), lu.queue_wait);
    }

    for (const auto& f : path_families()) {
        e.family(f.name, f.type, f.help);
        for (const auto& lu : lus) {
            for (const auto& p : lu.paths) {
                e.sample(f.name, path_labels(p), f.value(p));
            }
        }
    }
    path_state_family(e, lus);
    e.family("mpiod_path_io_latency_seconds", "histogram",
             "Latency of the I/Os completed on the path.");
    for (const auto& lu : lus) {
        for (const auto& p : lu.paths) {
            e.histogram("mpiod_path_io_latency_seconds", path_labels(p), p.counters.latency);
        }
    }
    return e.take();
}

} // namespace mpiod
