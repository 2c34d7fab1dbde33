// See stats.hpp.
#include "ctl/stats.hpp"

#include <cstdint>
#include <map>
#include <string>

#include "ctl/human_format.hpp"
#include "ctl/table.hpp"

namespace mpiod::ctl {

namespace {

using json = nlohmann::json;
using Histogram = std::map<std::uint64_t, std::uint64_t>; // bucket upper bound (µs) -> count

// A non-negative whole number as the daemon sends it, else nothing.
bool whole(const json& j) {
    return j.is_number_unsigned() || (j.is_number_integer() && j.get<std::int64_t>() >= 0);
}

std::uint64_t number(const json& j, const char* key) {
    if (!j.is_object()) {
        return 0;
    }
    auto it = j.find(key);
    return it != j.end() && whole(*it) ? it->get<std::uint64_t>() : 0;
}

Histogram histogram(const json& j) {
    Histogram h;
    if (!j.is_object()) {
        return h;
    }
    auto it = j.find("latency_histogram");
    if (it == j.end() || !it->is_array()) {
        return h;
    }
    for (const auto& bucket : *it) {
        if (bucket.is_array() && bucket.size() == 2 && whole(bucket[0]) && whole(bucket[1])) {
            h[bucket[0].get<std::uint64_t>()] = bucket[1].get<std::uint64_t>();
        }
    }
    return h;
}

// Counts in `after` not already in `before`: the interval's I/Os.
Histogram difference(const Histogram& after, const Histogram& before) {
    Histogram d;
    for (const auto& [bound, count] : after) {
        auto it = before.find(bound);
        const std::uint64_t earlier = it == before.end() ? 0 : it->second;
        if (count > earlier) {
            d[bound] = count - earlier;
        }
    }
    return d;
}

std::uint64_t percentile(const Histogram& h, double fraction) {
    std::uint64_t total = 0;
    for (const auto& [bound, count] : h) {
        total += count;
    }
    if (total == 0) {
        return 0;
    }
    const auto rank = static_cast<std::uint64_t>(fraction * static_cast<double>(total) + 0.999999);
    std::uint64_t seen = 0;
    for (const auto& [bound, count] : h) {
        seen += count;
        if (seen >= rank) {
            return bound;
        }
    }
    return h.rbegin()->first;
}

std::uint64_t delta(const json& after, const json& before, const char* key) {
    const auto a = number(after, key);
    const auto b = number(before, key);
    return a > b ? a - b : 0;
}

json row(const std::string& lu, const std::string& path, const json& after, const json& before,
         double seconds, const char* errors_key, const char* failovers_key) {
    const auto lat = difference(histogram(after), histogram(before));
    auto rate = [seconds](std::uint64_t n) { return static_cast<double>(n) / seconds; };
    return {
        {"lu", lu},
        {"path", path},
        {"iops", rate(delta(after, before, "ios"))},
        {"read_bytes_per_s", rate(delta(after, before, "bytes_read"))},
        {"write_bytes_per_s", rate(delta(after, before, "bytes_written"))},
        {"p50_us", percentile(lat, 0.50)},
        {"p90_us", percentile(lat, 0.90)},
        {"p99_us", percentile(lat, 0.99)},
        {"max_us", percentile(lat, 1.0)},
        {"failovers", delta(after, before, failovers_key)},
        {"errors", delta(after, before, errors_key)},
    };
}

const json& find_named(const json& list, const char* key, const std::string& name) {
    static const json empty = json::object();
    if (list.is_array()) {
        for (const auto& item : list) {
            if (item.is_object() && item.value(key, std::string()) == name) {
                return item;
            }
        }
    }
    return empty;
}

std::string rate_text(const json& r, const char* key) {
    return format_size(static_cast<std::uint64_t>(r.value(key, 0.0))) + "/s";
}

} // namespace

json compute_stats(const json& before, const json& after, double seconds) {
    auto rows = json::array();
    if (!after.is_array()) {
        return rows;
    }
    for (const auto& lu : after) {
        if (!lu.is_object()) {
            continue;
        }
        const auto name = lu.value("name", std::string());
        const json& lu_before = find_named(before, "name", name);
        rows.push_back(row(name, "", lu, lu_before, seconds, "io_errors", "failovers"));
        auto paths = lu.find("paths");
        if (paths == lu.end() || !paths->is_array()) {
            continue;
        }
        const json empty = json::array();
        const json& paths_before = lu_before.contains("paths") ? lu_before["paths"] : empty;
        for (const auto& p : *paths) {
            const auto id = p.value("id", std::string());
            // A path's "failures" are its falls to failed; its errors are I/Os it failed.
            rows.push_back(row(name, id, p, find_named(paths_before, "id", id), seconds, "errors",
                               "failures"));
        }
    }
    return rows;
}

std::string render_stats(const json& rows) {
    Table t({{"LU"},
             {"PATH"},
             {"IOPS", Align::right},
             {"READ", Align::right},
             {"WRITE", Align::right},
             {"P50(us)", Align::right},
             {"P90(us)", Align::right},
             {"P99(us)", Align::right},
             {"MAX(us)", Align::right},
             {"FAILOVERS", Align::right},
             {"ERRORS", Align::right}});
    for (const auto& r : rows) {
        const auto path = r.value("path", std::string());
        t.add_row({path.empty() ? r.value("lu", std::string()) : "", path.empty() ? "-" : path,
                   std::to_string(static_cast<std::uint64_t>(r.value("iops", 0.0) + 0.5)),
                   rate_text(r, "read_bytes_per_s"), rate_text(r, "write_bytes_per_s"),
                   std::to_string(r.value("p50_us", std::uint64_t{0})),
                   std::to_string(r.value("p90_us", std::uint64_t{0})),
                   std::to_string(r.value("p99_us", std::uint64_t{0})),
                   std::to_string(r.value("max_us", std::uint64_t{0})),
                   std::to_string(r.value("failovers", std::uint64_t{0})),
                   std::to_string(r.value("errors", std::uint64_t{0}))});
    }
    return t.render();
}

} // namespace mpiod::ctl
