// Turns control protocol results into multipathd-style text for mpiod-ctl.
#include "ctl/render.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ctl/human_format.hpp"
#include "ctl/table.hpp"

namespace mpiod::ctl {

namespace {

using json = nlohmann::json;

const json* field(const json& j, const char* key) {
    if (!j.is_object()) {
        return nullptr;
    }
    auto it = j.find(key);
    return it == j.end() ? nullptr : &*it;
}

// Any scalar as text; absent, null, empty or structured values as "-".
std::string text(const json& j, const char* key) {
    const auto* f = field(j, key);
    if (f == nullptr || f->is_null() || f->is_structured()) {
        return "-";
    }
    if (f->is_string()) {
        const auto& s = f->get_ref<const std::string&>();
        return s.empty() ? "-" : s;
    }
    return f->dump();
}

std::uint64_t count(const json& j, const char* key) {
    const auto* f = field(j, key);
    if (f == nullptr) {
        return 0;
    }
    if (f->is_number_unsigned()) {
        return f->get<std::uint64_t>();
    }
    if (f->is_number_integer()) {
        auto v = f->get<std::int64_t>();
        return v < 0 ? 0 : static_cast<std::uint64_t>(v);
    }
    if (f->is_number_float()) {
        auto v = f->get<double>();
        return v > 0 && v < 1.8e19 ? static_cast<std::uint64_t>(v) : 0;
    }
    return 0;
}

bool flag(const json& j, const char* key) {
    const auto* f = field(j, key);
    return f != nullptr && f->is_boolean() && f->get<bool>();
}

std::string count_text(const json& j, const char* key) {
    const auto* f = field(j, key);
    return f != nullptr && f->is_number() ? std::to_string(count(j, key)) : "-";
}

const json& empty_array() {
    static const json empty = json::array();
    return empty;
}

const json& as_array(const json& j) {
    return j.is_array() ? j : empty_array();
}

const json& items(const json& j, const char* key) {
    const auto* f = field(j, key);
    return f != nullptr ? as_array(*f) : empty_array();
}

std::string latency(const json& path) {
    const auto* f = field(path, "latency_mean_us");
    if (count(path, "ios") == 0 || f == nullptr || !f->is_number()) {
        return "-";
    }
    return format_latency_us(f->get<double>());
}

std::string size_text(const json& lu) {
    auto bytes = count(lu, "size_bytes");
    return bytes == 0 ? "-" : format_size(bytes);
}

std::string joined(const json& list) {
    std::string s;
    for (const auto& item : list) {
        if (item.is_string()) {
            s += s.empty() ? "" : ",";
            s += item.get<std::string>();
        }
    }
    return s.empty() ? "-" : s;
}

bool usable(const json& path) {
    auto state = text(path, "state");
    return state == "active" || state == "standby";
}

std::string path_summary(const json& lu) {
    const auto& paths = items(lu, "paths");
    std::size_t up = 0;
    for (const auto& p : paths) {
        up += usable(p) ? 1 : 0;
    }
    return std::to_string(up) + "/" + std::to_string(paths.size());
}

std::vector<Column> path_columns(bool with_lu) {
    std::vector<Column> cols;
    if (with_lu) {
        cols.push_back({"LU"});
    }
    for (Column c :
         {Column{"PATH"}, Column{"TRANSPORT"}, Column{"STATE"}, Column{"INFLIGHT", Align::right},
          Column{"IOS", Align::right}, Column{"ERRORS", Align::right},
          Column{"LAT(us)", Align::right}, Column{"TARGET"}}) {
        cols.push_back(std::move(c));
    }
    return cols;
}

// The state, whether the path is marginal, and when writes are in doubt on the path's hung
// connection, how many and for how long ("active, marginal", "failed, 3 in doubt for 12s").
std::string path_state(const json& p) {
    auto state = text(p, "state");
    if (flag(p, "marginal")) {
        state += ", marginal";
    }
    if (count(p, "in_doubt_writes") > 0) {
        state += ", " + count_text(p, "in_doubt_writes") + " in doubt for " +
                 format_duration(static_cast<std::int64_t>(count(p, "in_doubt_age_ms") / 1000));
    }
    return state;
}

std::string paths_table(const json& paths, bool with_lu) {
    Table t(path_columns(with_lu));
    for (const auto& p : paths) {
        std::vector<std::string> row;
        if (with_lu) {
            row.push_back(text(p, "lu"));
        }
        for (auto cell :
             {text(p, "id"), text(p, "transport"), path_state(p), count_text(p, "in_flight"),
              count_text(p, "ios"), count_text(p, "errors"), latency(p), text(p, "target")}) {
            row.push_back(std::move(cell));
        }
        t.add_row(std::move(row));
    }
    return t.render();
}

// "key  value" lines with the values aligned, for header blocks.
std::string key_values(const std::vector<std::pair<std::string, std::string>>& kv) {
    Table t({{""}, {""}});
    for (const auto& [k, v] : kv) {
        t.add_row({k, v});
    }
    auto out = t.render();
    return out.substr(out.find('\n') + 1); // no header line
}

} // namespace

std::string render_status(const json& status) {
    std::string states;
    if (const auto* f = field(status, "path_states"); f != nullptr && f->is_object()) {
        for (const auto& [state, n] : f->items()) {
            states += states.empty() ? " (" : ", ";
            states += (n.is_number() ? n.dump() : "?") + " " + state;
        }
        states += states.empty() ? "" : ")";
    }
    std::string out =
        "mpiod " + text(status, "version") + ", pid " + text(status, "pid") + ", up " +
        format_duration(static_cast<std::int64_t>(count(status, "uptime_seconds"))) + "\n";
    return out + key_values({{"config", text(status, "config_file")},
                             {"LUs", count_text(status, "lu_count")},
                             {"paths", count_text(status, "path_count") + states}});
}

std::string render_lus(const json& result) {
    Table t({{"NAME"},
             {"WWID"},
             {"POLICY"},
             {"STATE"},
             {"SIZE", Align::right},
             {"PATHS", Align::right},
             {"EXPORT"}});
    for (const auto& lu : as_array(result)) {
        t.add_row({text(lu, "name"), text(lu, "wwid"), text(lu, "policy"), text(lu, "state"),
                   size_text(lu), path_summary(lu), joined(items(lu, "exports"))});
    }
    return t.render();
}

std::string render_paths(const json& result) {
    return paths_table(as_array(result), true);
}

json lus_fields() {
    // "state" also brings each path's state, which PATHS counts.
    return {"name", "wwid", "policy", "state", "size_bytes", "exports", "paths"};
}

json paths_fields() {
    return {"lu",  "id",     "transport",       "state",           "marginal",  "in_doubt_writes",
            "ios", "errors", "in_doubt_age_ms", "latency_mean_us", "in_flight", "target"};
}

std::string render_lu(const json& lu) {
    std::string size = size_text(lu);
    if (size != "-") {
        size += " (" + count_text(lu, "size_bytes") + " bytes, block " +
                count_text(lu, "block_size") + ")";
    }
    std::string out = "LU " + text(lu, "name") + " (wwid " + text(lu, "wwid") + ")\n";
    out += key_values({
        {"  state", text(lu, "state")},
        {"  policy", text(lu, "policy")},
        {"  size", size},
        {"  paths", path_summary(lu) + " usable"},
        {"  i/o", count_text(lu, "ios") + " done, " + count_text(lu, "in_flight") + " in flight, " +
                      count_text(lu, "queued") + " queued, " + count_text(lu, "io_errors") +
                      " errors, " + count_text(lu, "failovers") + " failovers"},
        {"  exports", joined(items(lu, "exports"))},
    });
    if (count(lu, "in_doubt_writes") > 0 || count(lu, "kept_writes") > 0) {
        out += key_values(
            {{"  in doubt", count_text(lu, "in_doubt_writes") + " write(s) on hung paths; " +
                                count_text(lu, "kept_writes") + " later write(s) (" +
                                count_text(lu, "kept_bytes") + " bytes) kept, " +
                                count_text(lu, "replays") + " replayed, " + count_text(lu, "held") +
                                " held"}});
    }
    const auto& paths = items(lu, "paths");
    out += "\n" + paths_table(paths, false);
    std::vector<std::pair<std::string, std::string>> errors;
    std::vector<std::pair<std::string, std::string>> marginal;
    for (const auto& p : paths) {
        if (text(p, "last_error") != "-") {
            errors.emplace_back("  " + text(p, "id") + ":", text(p, "last_error"));
        }
        if (flag(p, "marginal")) {
            marginal.emplace_back(
                "  " + text(p, "id") + ":",
                text(p, "marginal_reason") + ", for " +
                    format_duration(static_cast<std::int64_t>(count(p, "marginal_for_ms") / 1000)));
        }
    }
    if (!marginal.empty()) {
        out += "\nmarginal (used only while no healthier path is usable):\n" + key_values(marginal);
    }
    return errors.empty() ? out : out + "\nlast errors:\n" + key_values(errors);
}

} // namespace mpiod::ctl
