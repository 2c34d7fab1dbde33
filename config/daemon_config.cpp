// Loading the YAML configuration: the document's shape and the top-level sections. LUs are
// assembled by LuAssembly, settings read by read_lu_settings().
#include "config/daemon_config.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <system_error>

#include "config/config_node.hpp"
#include "config/lu_assembly.hpp"
#include "config/lu_settings_keys.hpp"
#include "config/message_text.hpp"
#include "config/name_rules.hpp"
#include "config/tcp_endpoint.hpp"
#include "config/unix_socket_path.hpp"
#include "config/yaml_document.hpp"

namespace mpiod {

namespace {

constexpr std::array<std::string_view, 10> top_keys{
    "defaults",      "log_level", "busy_poll_us", "control_socket", "metrics",
    "bindings_file", "export",    "scan",         "paths",          "lus"};
constexpr std::uint64_t max_busy_poll_us = 1000;
constexpr std::array<std::string_view, 2> scan_keys{"scsi_generic", "exclude"};
constexpr std::array<std::string_view, 3> path_keys{"id", "uri", "wwid"};
constexpr std::array<std::string_view, 7> export_keys{
    "dir", "tcp", "kind", "fuse_dir", "queues", "reattach_timeout", "detach_on_stop"};
constexpr std::array<std::string_view, 5> export_kinds{"auto", "nbd", "fuse", "fuse-file",
                                                       "socket"};
constexpr std::array<std::string_view, 5> log_levels{"trace", "debug", "info", "warn", "error"};
constexpr std::array<std::string_view, 8> uri_schemes{
    "nbd", "nbds", "nbd+unix", "nbds+unix", "nbd+vsock", "nbds+vsock", "iscsi", "sg"};

bool contains(std::span<const std::string_view> list, std::string_view s) {
    return std::find(list.begin(), list.end(), s) != list.end();
}

std::string absolute_path(const ConfigNode& node) {
    std::string s = node.text();
    if (s.empty() || s.front() != '/') {
        throw node.error(in_quotes(s) + " is not an absolute path");
    }
    return s;
}

std::string log_level_of(const ConfigNode& node) {
    std::string s = node.text();
    if (!contains(log_levels, s)) {
        throw node.error("unknown log level " + in_quotes(s) + " (valid: " + join(log_levels) +
                         ")");
    }
    return s;
}

std::filesystem::path control_socket_of(const ConfigNode& node) {
    std::string s = absolute_path(node);
    if (s.size() > max_unix_socket_path) {
        throw node.error("path is " + std::to_string(s.size()) +
                         " bytes; a Unix socket path allows at most " +
                         std::to_string(max_unix_socket_path));
    }
    return s;
}

// A loopback ADDRESS:PORT or a Unix socket path: the metrics endpoint has no authentication.
std::string metrics_of(const ConfigNode& node) {
    std::string s = node.text();
    if (metrics_on_unix_socket(s)) {
        return control_socket_of(node).string();
    }
    auto endpoint = parse_tcp_endpoint(s);
    if (!endpoint) {
        throw node.error(in_quotes(s) + " is neither a loopback ADDRESS:PORT (e.g. " +
                         "127.0.0.1:9810 or [::1]:9810) nor an absolute Unix socket path");
    }
    if (!is_loopback(*endpoint)) {
        throw node.error(in_quotes(s) + " is not a loopback address (only 127.0.0.0/8 and ::1 " +
                         "are accepted: the metrics endpoint has no authentication)");
    }
    return s;
}

ExportConfig export_of(const ConfigNode& node) {
    node.expect_map(export_keys);
    ExportConfig out;
    if (auto dir = node.find("dir")) {
        out.dir = absolute_path(*dir);
    }
    if (auto kind = node.find("kind")) {
        out.kind = kind->text();
        if (!contains(export_kinds, out.kind)) {
            throw kind->error("unknown export kind " + in_quotes(out.kind) +
                              " (valid: " + join(export_kinds) + ")");
        }
    }
    if (auto fuse_dir = node.find("fuse_dir")) {
        out.fuse_dir = absolute_path(*fuse_dir);
    }
    if (auto queues = node.find("queues")) {
        out.queues = static_cast<unsigned>(queues->whole_number(1, 16));
    }
    if (auto reattach = node.find("reattach_timeout")) {
        // The kernel takes whole seconds; at least one, at most a day.
        auto ms = reattach->duration(Millis{1000}, Millis{86'400'000});
        out.reattach_timeout = std::chrono::duration_cast<std::chrono::seconds>(ms);
    }
    if (auto detach = node.find("detach_on_stop")) {
        out.detach_on_stop = detach->boolean();
    }
    if (auto tcp = node.find_section("tcp")) {
        for (const ConfigNode& item : tcp->items()) {
            std::string s = item.text();
            auto endpoint = parse_tcp_endpoint(s);
            if (!endpoint) {
                throw item.error(in_quotes(s) +
                                 " is not ADDRESS:PORT (e.g. 127.0.0.1:10809 or [::1]:10809)");
            }
            if (!is_loopback(*endpoint)) {
                throw item.error(in_quotes(s) + " is not a loopback address (only 127.0.0.0/8 " +
                                 "and ::1 are accepted: NBD exports have no authentication)");
            }
            if (std::find(out.tcp.begin(), out.tcp.end(), s) != out.tcp.end()) {
                throw item.error(in_quotes(s) + " is listed twice");
            }
            out.tcp.push_back(std::move(s));
        }
    }
    return out;
}

void check_uri(const ConfigNode& node, const std::string& uri) {
    const auto sep = uri.find("://");
    if (sep == std::string::npos) {
        throw node.error(in_quotes(uri) + " is not a path URI (e.g. " +
                         "nbd+unix:///?socket=/run/disk.sock, nbd://host:10809/export or " +
                         "iscsi://host:3260/iqn.2001-04.com.example:disk/1)");
    }
    const std::string scheme = uri.substr(0, sep);
    if (!contains(uri_schemes, scheme)) {
        throw node.error("unsupported URI scheme " + in_quotes(scheme) +
                         " (valid: " + join(uri_schemes) + ")");
    }
    if (scheme == "sg" && (uri.size() <= sep + 4 || uri[sep + 3] != '/')) {
        throw node.error(in_quotes(uri) + ": an sg:// URI names a device node: sg:///dev/sgN");
    }
    if (scheme.ends_with("+unix") && uri.find("socket=") == std::string::npos) {
        throw node.error(in_quotes(uri) + ": a " + scheme + ":// URI needs ?socket=PATH");
    }
}

PathConfig path_of(const ConfigNode& item, std::map<std::string, int>& id_lines) {
    item.expect_map(path_keys);
    PathConfig p;
    p.line = item.line();
    const ConfigNode id = item.require("id");
    p.id = id.text();
    if (!is_name(p.id)) {
        throw id.error(in_quotes(p.id) + " is not a valid path id (use A-Z a-z 0-9 _ . -)");
    }
    if (auto [it, fresh] = id_lines.emplace(p.id, id.line()); !fresh) {
        throw id.error("duplicate path id " + in_quotes(p.id) + " (first on line " +
                       std::to_string(it->second) + ")");
    }
    const ConfigNode uri = item.require("uri");
    p.uri = uri.text();
    check_uri(uri, p.uri);
    // SCSI paths report their identity (VPD 0x83); NBD has none, so config must give it.
    const bool scsi = is_scsi_uri(p.uri);
    auto wwid = item.find("wwid");
    if (!wwid && !scsi) {
        throw item.missing("wwid");
    }
    if (wwid) {
        p.wwid = wwid->text();
        if (!is_wwid(p.wwid)) {
            throw wwid->error(in_quotes(p.wwid) + " is not a valid wwid (use A-Z a-z 0-9 _ . - :)");
        }
    }
    return p;
}

ScanConfig scan_of(const ConfigNode& node) {
    node.expect_map(scan_keys);
    ScanConfig out;
    if (auto sg = node.find("scsi_generic")) {
        out.scsi_generic = sg->boolean();
    }
    if (auto exclude = node.find_section("exclude")) {
        for (const ConfigNode& item : exclude->items()) {
            std::string name = item.text();
            if (name.rfind("/dev/", 0) == 0) {
                name = name.substr(5);
            }
            if (name.rfind("sg", 0) != 0 || name.size() == 2 ||
                name.find_first_not_of("0123456789", 2) != std::string::npos) {
                throw item.error(in_quotes(item.text()) + " is not a SCSI generic device " +
                                 "(sgN or /dev/sgN)");
            }
            out.exclude.push_back(std::move(name));
        }
    }
    return out;
}

DaemonConfig config_of(const ConfigNode& root) {
    if (!root.is_map()) {
        throw root.error("expected a mapping of sections (paths:, lus:, defaults:, ...) at the "
                         "top level");
    }
    root.expect_map(top_keys);
    DaemonConfig config;
    if (auto defaults = root.find_section("defaults")) {
        defaults->expect_map(lu_settings_keys());
        read_lu_settings(*defaults, config.defaults);
    }
    if (auto level = root.find("log_level")) {
        config.log_level = log_level_of(*level);
    }
    if (auto poll = root.find("busy_poll_us")) {
        config.busy_poll = std::chrono::microseconds(poll->whole_number(0, max_busy_poll_us));
    }
    if (auto socket = root.find("control_socket")) {
        config.control_socket = control_socket_of(*socket);
    }
    if (auto metrics = root.find("metrics")) {
        config.metrics = metrics_of(*metrics);
    }
    if (auto exports = root.find_section("export")) {
        config.exports = export_of(*exports);
    }
    if (auto bindings = root.find("bindings_file")) {
        config.bindings_file = absolute_path(*bindings);
    }

    if (auto scan = root.find_section("scan")) {
        config.scan = scan_of(*scan);
    }

    LuAssembly lus;
    if (config.scan.scsi_generic) {
        lus.expect_discovered_paths();
    }
    std::vector<ConfigNode> items;
    if (auto paths = root.find("paths"); paths || !config.scan.scsi_generic) {
        const ConfigNode listed = root.require("paths");
        items = listed.items();
        if (items.empty() && !config.scan.scsi_generic) {
            throw listed.error("at least one path is required (or scan: scsi_generic: true)");
        }
    }
    std::map<std::string, int> id_lines;
    for (const ConfigNode& item : items) {
        config.paths.push_back(path_of(item, id_lines));
        if (config.paths.back().wwid.empty()) {
            lus.add_identified_later(config.paths.back().id);
        } else {
            lus.add_path(config.paths.back(), item.require("wwid"));
        }
    }
    if (auto entries = root.find_section("lus")) {
        for (const ConfigNode& entry : entries->items()) {
            lus.apply_entry(entry, config.defaults);
        }
    }
    config.lus = lus.finish(config.defaults, config.exports.dir);
    return config;
}

} // namespace

bool is_scsi_uri(const std::string& uri) {
    return uri.rfind("iscsi://", 0) == 0 || uri.rfind("sg://", 0) == 0;
}

std::uint32_t LuConfig::weight_of(const std::string& path_id) const {
    auto it = weights.find(path_id);
    return it == weights.end() ? 1 : it->second;
}

std::uint32_t LuConfig::throughput_of(const std::string& path_id) const {
    auto it = throughput.find(path_id);
    return it == throughput.end() ? 1 : it->second;
}

bool LuConfig::is_standby(const std::string& path_id) const {
    return std::find(standby.begin(), standby.end(), path_id) != standby.end();
}

DaemonConfig parse_config(const std::string& yaml_text, const std::string& source_name) {
    try {
        DaemonConfig config =
            config_of(ConfigNode(load_single_document(yaml_text, source_name), source_name));
        config.source = source_name;
        return config;
    } catch (const YAML::Exception& e) {
        // Accessors are checked before use; this only guards against a yaml-cpp surprise.
        throw ConfigError(source_name, e.mark.is_null() ? 0 : e.mark.line + 1, "",
                          std::string("YAML error: ") + e.what());
    }
}

DaemonConfig load_config(const std::filesystem::path& file) {
    const std::string name = file.string();
    std::error_code ec;
    if (std::filesystem::is_directory(file, ec)) {
        throw ConfigError(name, 0, "", "is a directory, not a configuration file");
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw ConfigError(name, 0, "", std::string("cannot open: ") + std::strerror(errno));
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
        throw ConfigError(name, 0, "", std::string("cannot read: ") + std::strerror(errno));
    }
    return parse_config(text.str(), name);
}

} // namespace mpiod
