// The control commands: argument checks, backend calls and the shape of each result.
#include "daemon/control_commands.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/status_json.hpp"

namespace mpiod {

using json = nlohmann::json;

namespace {

// A request refused before or by the backend; becomes an error reply. Thrown only inside
// this file, to leave a command's steps from any depth.
struct RequestError {
    ControlError error;
};

// A request the daemon does not take: malformed, unknown command, bad argument.
[[noreturn]] void refuse(std::string message) {
    throw RequestError{ControlError::invalid(std::move(message))};
}

json ok_reply(json result) {
    return {{"ok", true}, {"result", std::move(result)}};
}

std::string string_arg(const json& req, std::string_view command, const char* name) {
    auto it = req.find(name);
    if (it == req.end()) {
        refuse(std::string(command) + ": missing argument \"" + name + "\"");
    }
    if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
        refuse(std::string(command) + ": argument \"" + name + "\" must be a non-empty string");
    }
    return it->get<std::string>();
}

void check(ControlResult<> backend_result) {
    if (!backend_result) {
        throw RequestError{std::move(backend_result).error()};
    }
}

const LuStatus* find_lu(const std::vector<LuStatus>& lus, const std::string& key) {
    for (const auto& lu : lus) {
        if (lu.name == key) {
            return &lu;
        }
    }
    for (const auto& lu : lus) {
        if (!lu.wwid.empty() && lu.wwid == key) {
            return &lu;
        }
    }
    return nullptr;
}

// The path's status after an operator action, or null if it vanished meanwhile.
json path_json(const ControlBackend& b, const std::string& id) {
    for (const auto& lu : b.lus()) {
        for (const auto& p : lu.paths) {
            if (p.id == id) {
                return p;
            }
        }
    }
    return nullptr;
}

// The LU after an action on it, or null if it vanished meanwhile.
json lu_json(const ControlBackend& b, const std::string& key) {
    auto lus = b.lus();
    const auto* found = find_lu(lus, key);
    return found != nullptr ? json(*found) : json(nullptr);
}

json cmd_status(ControlBackend& b, const json&) {
    return status_json(b.daemon_status(), b.lus(), Clock::now());
}

json cmd_list_lus(ControlBackend& b, const json&) {
    return b.lus();
}

json cmd_list_paths(ControlBackend& b, const json&) {
    auto paths = json::array();
    for (const auto& lu : b.lus()) {
        for (const auto& p : lu.paths) {
            paths.push_back(p);
        }
    }
    return paths;
}

json cmd_show_lu(ControlBackend& b, const json& req) {
    auto key = string_arg(req, "show-lu", "lu");
    auto lus = b.lus();
    const auto* lu = find_lu(lus, key);
    if (lu == nullptr) {
        throw RequestError{ControlError::not_found("no such LU: " + key)};
    }
    return *lu;
}

json cmd_fail_path(ControlBackend& b, const json& req) {
    auto id = string_arg(req, "fail-path", "path");
    check(b.fail_path(id));
    return path_json(b, id);
}

json cmd_reinstate_path(ControlBackend& b, const json& req) {
    auto id = string_arg(req, "reinstate-path", "path");
    check(b.reinstate_path(id));
    return path_json(b, id);
}

json cmd_set_policy(ControlBackend& b, const json& req) {
    auto lu = string_arg(req, "set-policy", "lu");
    auto policy = string_arg(req, "set-policy", "policy");
    check(b.set_policy(lu, policy));
    return lu_json(b, lu);
}

json cmd_reload(ControlBackend& b, const json&) {
    check(b.reload());
    return b.lus();
}

json cmd_resize(ControlBackend& b, const json& req) {
    auto lu = string_arg(req, "resize", "lu");
    check(b.resize(lu));
    return lu_json(b, lu);
}

json cmd_detach(ControlBackend& b, const json& req) {
    auto lu = string_arg(req, "detach", "lu");
    check(b.detach(lu));
    return lu_json(b, lu);
}

// Acted on by the connection once the reply is written (see ControlBackend).
json cmd_shutdown(ControlBackend&, const json& req) {
    if (auto it = req.find("detach"); it != req.end() && !it->is_boolean()) {
        refuse("shutdown: argument \"detach\" must be true or false");
    }
    return nullptr;
}

struct Command {
    std::string_view name;
    json (*run)(ControlBackend&, const json&);
    bool changes_state; // logged at info level
};

constexpr Command commands[] = {
    // clang-format off
    {"status",         cmd_status,         false},
    {"list-lus",       cmd_list_lus,       false},
    {"list-paths",     cmd_list_paths,     false},
    {"show-lu",        cmd_show_lu,        false},
    {"fail-path",      cmd_fail_path,      true},
    {"reinstate-path", cmd_reinstate_path, true},
    {"set-policy",     cmd_set_policy,     true},
    {"reload",         cmd_reload,         true},
    {"resize",         cmd_resize,         true},
    {"detach",         cmd_detach,         true},
    {"shutdown",       cmd_shutdown,       true},
    // clang-format on
};

std::string known_commands() {
    std::string s;
    for (const auto& c : commands) {
        s += s.empty() ? "" : ", ";
        s += c.name;
    }
    return s;
}

const Command& find_command(const json& request) {
    if (!request.is_object()) {
        refuse("request must be a JSON object");
    }
    auto it = request.find("command");
    if (it == request.end()) {
        refuse("request has no \"command\" (known: " + known_commands() + ")");
    }
    if (!it->is_string()) {
        refuse("\"command\" must be a string");
    }
    const auto& name = it->get_ref<const std::string&>();
    for (const auto& c : commands) {
        if (c.name == name) {
            return c;
        }
    }
    refuse("unknown command \"" + name + "\" (known: " + known_commands() + ")");
}

} // namespace

json handle_control_request(ControlBackend& backend, const json& request) {
    try {
        return ok_reply(find_command(request).run(backend, request));
    } catch (const RequestError& e) {
        return control_error_reply(e.error);
    } catch (const std::exception& e) {
        return control_error_reply(
            ControlError::failed(std::string("internal error: ") + e.what()));
    } catch (...) {
        return control_error_reply(ControlError::failed("internal error"));
    }
}

bool is_shutdown_request(const json& request) {
    try {
        return find_command(request).name == "shutdown";
    } catch (const RequestError&) {
        return false;
    }
}

bool shutdown_detaches(const json& request) {
    auto it = request.find("detach");
    return it != request.end() && it->is_boolean() && it->get<bool>();
}

bool is_state_changing_request(const json& request) {
    try {
        return find_command(request).changes_state;
    } catch (const RequestError&) {
        return false;
    }
}

json control_error_reply(const ControlError& error) {
    return {{"ok", false}, {"error", error.message}, {"kind", to_string(error.kind)}};
}

} // namespace mpiod
