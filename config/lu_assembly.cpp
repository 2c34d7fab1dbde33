// LU assembly from paths and `lus:` entries.
#include "config/lu_assembly.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

#include "config/lu_settings_keys.hpp"
#include "config/message_text.hpp"
#include "config/name_rules.hpp"
#include "config/unix_socket_path.hpp"

namespace mpiod {

namespace {

constexpr std::array<std::string_view, 5> entry_keys{"wwid", "alias", "standby", "weights",
                                                     "throughput"};
constexpr std::uint64_t max_weight = 1'000'000;
constexpr std::uint64_t max_throughput = 1'000'000;

std::vector<std::string_view> lu_keys() {
    std::vector<std::string_view> keys(entry_keys.begin(), entry_keys.end());
    const auto settings = lu_settings_keys();
    keys.insert(keys.end(), settings.begin(), settings.end());
    return keys;
}

} // namespace

void LuAssembly::add_path(const PathConfig& path, const ConfigNode& wwid_node) {
    auto [it, fresh] = index_.emplace(path.wwid, drafts_.size());
    if (fresh) {
        Draft d{LuConfig{}, wwid_node};
        d.lu.wwid = path.wwid;
        d.lu.line = path.line;
        drafts_.push_back(std::move(d));
    }
    drafts_[it->second].lu.path_ids.push_back(path.id);
}

std::string LuAssembly::path_of(const LuConfig& lu, const ConfigNode& where, std::string id) const {
    auto listed = [&id](const std::vector<std::string>& ids) {
        return std::find(ids.begin(), ids.end(), id) != ids.end();
    };
    if (listed(lu.path_ids) || listed(unidentified_) || (discovered_ && is_name(id))) {
        return id;
    }
    throw where.error("path " + in_quotes(id) +
                      " is not a path of this LU (its paths: " + join(lu.path_ids) + ")");
}

void LuAssembly::apply_entry(const ConfigNode& entry, const LuSettings& defaults) {
    entry.expect_map(lu_keys());
    const ConfigNode wwid = entry.require("wwid");
    const std::string w = wwid.text();
    auto it = index_.find(w);
    if (it == index_.end()) {
        if (unidentified_.empty() && !discovered_) {
            throw wwid.error("no path has wwid " + in_quotes(w) +
                             " (add a path with this wwid, or remove this entry)");
        }
        // Settings for an LU that SCSI paths may turn out to reach.
        Draft d{LuConfig{}, wwid};
        d.lu.wwid = w;
        d.lu.line = entry.line();
        it = index_.emplace(w, drafts_.size()).first;
        drafts_.push_back(std::move(d));
    }
    Draft& d = drafts_[it->second];
    if (d.has_entry) {
        throw wwid.error("duplicate entry for wwid " + in_quotes(w) + " (first on line " +
                         std::to_string(d.lu.line) + ")");
    }
    d.has_entry = true;
    d.lu.line = entry.line();
    d.lu.settings = defaults;
    read_lu_settings(entry, d.lu.settings);
    if (auto alias = entry.find("alias")) {
        d.lu.alias = alias->text();
        d.alias_origin = *alias;
        d.alias_given = true;
        if (!is_name(d.lu.alias)) {
            throw alias->error(in_quotes(d.lu.alias) +
                               " is not a valid alias (use A-Z a-z 0-9 _ . -)");
        }
    }
    if (auto standby = entry.find_section("standby")) {
        for (const ConfigNode& member : standby->items()) {
            std::string id = path_of(d.lu, member, member.text());
            if (d.lu.is_standby(id)) {
                throw member.error("path " + in_quotes(id) + " is listed twice");
            }
            d.lu.standby.push_back(std::move(id));
        }
    }
    if (auto weights = entry.find_section("weights")) {
        for (const auto& [id, value] : weights->entries()) {
            d.lu.weights[path_of(d.lu, value, id)] =
                static_cast<std::uint32_t>(value.whole_number(1, max_weight));
        }
    }
    if (auto throughput = entry.find_section("throughput")) {
        for (const auto& [id, value] : throughput->entries()) {
            d.lu.throughput[path_of(d.lu, value, id)] =
                static_cast<std::uint32_t>(value.whole_number(0, max_throughput));
        }
    }
}

std::vector<LuConfig> LuAssembly::finish(const LuSettings& defaults,
                                         const std::filesystem::path& export_dir) {
    std::vector<LuConfig> out;
    std::map<std::string, int> alias_lines;
    for (Draft& d : drafts_) {
        LuConfig& lu = d.lu;
        if (!d.has_entry) {
            lu.settings = defaults;
        }
        lu.alias_given = d.alias_given;
        if (!d.alias_given) {
            lu.alias = lu.wwid;
            if (!is_name(lu.alias)) {
                throw d.alias_origin.error(in_quotes(lu.alias) +
                                           " cannot serve as the LU's alias (use A-Z a-z 0-9 _ "
                                           ". -); give the LU an alias in a lus: entry");
            }
        }
        if (auto [it, fresh] = alias_lines.emplace(lu.alias, d.alias_origin.line()); !fresh) {
            throw d.alias_origin.error("duplicate alias " + in_quotes(lu.alias) +
                                       " (first on line " + std::to_string(it->second) + ")");
        }
        const std::string socket = (export_dir / (lu.alias + ".sock")).string();
        if (socket.size() > max_unix_socket_path) {
            throw d.alias_origin.error(
                "export socket " + in_quotes(socket) + " is " + std::to_string(socket.size()) +
                " bytes; a Unix socket path allows at most " +
                std::to_string(max_unix_socket_path) + " (shorten export.dir or the alias)");
        }
        out.push_back(std::move(lu));
    }
    return out;
}

} // namespace mpiod
