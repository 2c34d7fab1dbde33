// The control commands: argument checks, backend calls and the shape of each result.
#include "daemon/control_commands.hpp"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/outcome/try.hpp>
#include <nlohmann/json.hpp>

#include "daemon/json_writer.hpp"
#include "daemon/status_json.hpp"

namespace mpiod {

using json = nlohmann::json;

namespace {

// A command's result as JSON text, or why the request was refused (before or by the
// backend).
using Reply = ControlResult<std::string>;

std::string null_text() {
    return "null";
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

// The optional `fields` argument of the listing commands: which fields the LU and path
// objects carry (all when absent).
ControlResult<StatusFields> fields_arg(const json& req, std::string_view command) {
    auto it = req.find("fields");
    if (it == req.end() || it->is_null()) {
        return StatusFields{};
    }
    const bool names_only =
        it->is_array() &&
        std::all_of(it->begin(), it->end(), [](const json& n) { return n.is_string(); });
    if (names_only) {
        return StatusFields(it->get<std::vector<std::string>>());
    }
    return ControlError::invalid(std::string(command) +
                                 ": argument \"fields\" must be an array of field names");
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
std::string path_json(const ControlBackend& b, const std::string& id) {
    for (const auto& lu : b.lus()) {
        for (const auto& p : lu.paths) {
            if (p.id == id) {
                return json_text(p);
            }
        }
    }
    return null_text();
}

// The LU after an action on it, or null if it vanished meanwhile.
std::string lu_json(const ControlBackend& b, const std::string& key) {
    auto lus = b.lus();
    const auto* found = find_lu(lus, key);
    return found != nullptr ? json_text(*found) : null_text();
}

Reply cmd_status(ControlBackend& b, const json&) {
    JsonWriter w;
    write_status(w, b.daemon_status(), b.lus(), Clock::now());
    return w.take();
}

Reply cmd_list_lus(ControlBackend& b, const json& req) {
    BOOST_OUTCOME_TRY(auto fields, fields_arg(req, "list-lus"));
    return json_text(b.lus(), fields);
}

Reply cmd_list_paths(ControlBackend& b, const json& req) {
    BOOST_OUTCOME_TRY(auto fields, fields_arg(req, "list-paths"));
    auto lus = b.lus();
    std::size_t n = 0;
    for (const auto& lu : lus) {
        n += lu.paths.size();
    }
    JsonWriter w;
    w.reserve(n * 700);
    w.begin_array();
    for (const auto& lu : lus) {
        for (const auto& p : lu.paths) {
            write_json(w, p, fields);
        }
    }
    w.end_array();
    return w.take();
}

Reply cmd_show_lu(ControlBackend& b, const json& req) {
    BOOST_OUTCOME_TRY(auto key, string_arg(req, "show-lu", "lu"));
    BOOST_OUTCOME_TRY(auto fields, fields_arg(req, "show-lu"));
    auto lus = b.lus();
    const auto* lu = find_lu(lus, key);
    if (lu == nullptr) {
        return ControlError::not_found("no such LU: " + key);
    }
    return json_text(*lu, fields);
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
    return json_text(b.lus());
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
    return null_text();
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

ControlReplyText handle_control_request(ControlBackend& backend, const json& request) {
    ControlError error = ControlError::failed("internal error");
    try {
        auto reply = run_command(backend, request);
        if (reply) {
            JsonWriter w;
            w.begin_object();
            w.field("ok", true);
            w.key("result");
            w.raw(reply.value());
            w.end_object();
            return {true, {}, w.take()};
        }
        error = reply.error();
    } catch (const std::exception& e) { // a backend that throws: the server keeps serving
        error = ControlError::failed(std::string("internal error: ") + e.what());
    } catch (...) {
    }
    return {false, error.message,
            control_error_reply(error).dump(-1, ' ', false, json::error_handler_t::replace)};
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
