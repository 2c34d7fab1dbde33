// The control protocol's commands, independent of any socket: one parsed request in, one
// reply object out. ControlServer does the framing; see daemon/control_protocol.md.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "daemon/control_backend.hpp"

namespace mpiod {

/// A reply, written as JSON text (without the line's newline).
struct ControlReplyText {
    bool ok = false;
    std::string error; // the message when !ok
    std::string text;  // {"ok":true,"result":...} or control_error_reply()
};

/// Runs one parsed request against `backend` and returns the reply. Never throws: a bad
/// request, a backend's ControlError or a backend exception becomes an error reply.
/// `shutdown` is only acknowledged here: the caller calls backend.request_shutdown() once
/// the reply is sent.
ControlReplyText handle_control_request(ControlBackend& backend, const nlohmann::json& request);

/// True if `request` is a well-formed `shutdown` command.
bool is_shutdown_request(const nlohmann::json& request);
/// True if a `shutdown` request asks for the kernel devices to be detached ("detach": true).
bool shutdown_detaches(const nlohmann::json& request);
/// True if `request` names a command that changes the daemon's state (worth logging).
bool is_state_changing_request(const nlohmann::json& request);

/// {"ok": false, "error": message, "kind": "not_found" | "invalid" | "busy" | "failed"}
nlohmann::json control_error_reply(const ControlError& error);

} // namespace mpiod
