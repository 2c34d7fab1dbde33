// The control commands: argument checks, backend calls and the shape of each result.
#include "daemon/control_commands.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/outcome/try.hpp>
#include <nlohmann/json.hpp>

#include "daemon/status_json.hpp"

namespace mpiod {

using json = nlohmann::json;

namespace {

// A command's result, or why the request was refused (before or by the backend).
using Reply = ControlResult<json>;

json ok_reply(json result) {
    return {{"ok", true}, {"result", std::move(result)}};
}

ControlResult<std::string> string_arg(const json& req, std::string_view command, const char* name) {
    auto it = req.find(name);
    if (it == req.end()) {
        return ControlError::invalid(std::string(command) + ": missing argument \"" + name + "\"");
    }
    if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
        return ControlError::invalid(std::string(command) + ": argument \"" + name +
                                     "\" must be a non-empty string");
    }
    return it->get<std::string>();
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

Reply cmd_status(ControlBackend& b, const json&) {
    return status_json(b.daemon_status(), b.lus(), Clock::now());
}

Reply cmd_list_lus(ControlBackend& b, const json&) {
    return json(b.lus());
}

Reply cmd_list_paths(ControlBackend& b, const json&) {
    auto paths = json::array();
    for (const auto& lu : b.lus()) {
        for (const auto& p : lu.paths) {
            paths.push_back(p);
        }
    }
    return paths;
}

Reply cmd_show_lu(ControlBackend& b, const json& req) {
    BOOST_OUTCOME_TRY(auto key, string_arg(req, "show-lu", "lu"));
    auto lus = b.lus();
    const auto* lu = find_lu(lus, key);
    if (lu == nullptr) {
        return ControlError::not_found("no such LU: " + key);
    }
    return json(*lu);
}

Reply cmd_fail_path(ControlBackend& b, const json& req) {
    BOOST_OUTCOME_TRY(auto id, string_arg(req, "fail-path", "path"));
    BOOST_OUTCOME_TRY(b.fail_path(id));
    return path_json(b, id);
}

Reply cmd_reinstate_path(ControlBackend& b, const json& req) {
    BOOST_OUTCOME_TRY(auto id, string_arg(req, "reinstate-path", "path"));
    BOOST_OUTCOME_TRY(b.reinstate_path(id));
    return path_json(b, id);
}

Reply cmd_set_policy(ControlBackend& b, const json& req) {
    BOOST_OUTCOME_TRY(auto lu, string_arg(req, "set-policy", "lu"));
    BOOST_OUTCOME_TRY(auto policy, string_arg(req, "set-policy", "policy"));
    BOOST_OUTCOME_TRY(b.set_policy(lu, policy));
    return lu_json(b, lu);
}

Reply cmd_reload(ControlBackend& b, const json&) {
    BOOST_OUTCOME_TRY(b.reload());
    return json(b.lus());
}

Reply cmd_resize(ControlBackend& b, const json& req) {
    BOOST_OUTCOME_TRY(auto lu, string_arg(req, "resize", "lu"));
    BOOST_OUTCOME_TRY(b.resize(lu));
    return lu_json(b, lu);
}

Reply cmd_detach(ControlBackend& b, const json& req) {
    BOOST_OUTCOME_TRY(auto lu, string_arg(req, "detach", "lu"));
    BOOST_OUTCOME_TRY(b.detach(lu));
    return lu_json(b, lu);
}

// Acted on by the connection once the reply is written (see ControlBackend).
Reply cmd_shutdown(ControlBackend&, const json& req) {
    if (auto it = req.find("detach"); it != req.end() && !it->is_boolean()) {
        return ControlError::invalid("shutdown: argument \"detach\" must be true or false");
    }
    return json(nullptr);
}

struct Command {
    std::string_view name;
    Reply (*run)(ControlBackend&, const json&);
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

ControlResult<const Command*> find_command(const json& request) {
    if (!request.is_object()) {
        return ControlError::invalid("request must be a JSON object");
    }
    auto it = request.find("command");
    if (it == request.end()) {
        return ControlError::invalid("request has no \"command\" (known: " + known_commands() +
                                     ")");
    }
    if (!it->is_string()) {
        return ControlError::invalid("\"command\" must be a string");
    }
    const auto& name = it->get_ref<const std::string&>();
    for (const auto& c : commands) {
        if (c.name == name) {
            return &c;
        }
    }
    return ControlError::invalid("unknown command \"" + name + "\" (known: " + known_commands() +
                                 ")");
}

Reply run_command(ControlBackend& backend, const json& request) {
    BOOST_OUTCOME_TRY(auto command, find_command(request));
    return command->run(backend, request);
}

} // namespace

json handle_control_request(ControlBackend& backend, const json& request) {
    try {
        auto reply = run_command(backend, request);
        return reply ? ok_reply(std::move(reply).value()) : control_error_reply(reply.error());
    } catch (const std::exception& e) { // a backend that throws: the server keeps serving
        return control_error_reply(
            ControlError::failed(std::string("internal error: ") + e.what()));
    } catch (...) {
        return control_error_reply(ControlError::failed("internal error"));
    }
}

bool is_shutdown_request(const json& request) {
    auto command = find_command(request);
    return command && command.value()->name == "shutdown";
}

bool shutdown_detaches(const json& request) {
    auto it = request.find("detach");
    return it != request.end() && it->is_boolean() && it->get<bool>();
}

bool is_state_changing_request(const json& request) {
    auto command = find_command(request);
    return command && command.value()->changes_state;
}

json control_error_reply(const ControlError& error) {
    return {{"ok", false}, {"error", error.message}, {"kind", to_string(error.kind)}};
}

} // namespace mpiod
