// mpiod-ctl's side of the control socket: one JSON request line out, one JSON reply line
// back, with a bounded wait. Speaks only the protocol (daemon/control_protocol.md).
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace mpiod::ctl {

inline constexpr const char* default_control_socket = "/run/mpiod/control.sock";

/// Why a request did not get a well-formed answer. All of these mean "could not talk to
/// the daemon", as opposed to the daemon refusing a command (ControlReply::ok == false).
enum class ClientFailure {
    unreachable,       // no socket file, nobody listening, bad path, ...
    permission_denied, // the socket file or the daemon's uid check refused us
    timed_out,         // no complete reply before the deadline
    protocol,          // the peer closed early or sent something that is not a reply
};

class ClientError : public std::runtime_error {
public:
    ClientError(ClientFailure failure, const std::string& message)
        : std::runtime_error(message), failure_(failure) {}
    ClientFailure failure() const noexcept { return failure_; }

private:
    ClientFailure failure_;
};

/// The daemon's answer to one request.
struct ControlReply {
    bool ok = false;
    nlohmann::json result; // when ok (call())
    std::string printed;   // when ok (call_printed()): the result as indented JSON text
    std::string error;     // when !ok
};

/// Talks to the daemon at one socket path; each call() uses a fresh connection.
class ControlClient {
public:
    explicit ControlClient(std::string socket_path,
                           std::chrono::milliseconds timeout = std::chrono::seconds(10))
        : socket_path_(std::move(socket_path)), timeout_(timeout) {}

    /// Sends `request` and waits at most the timeout (in total) for its reply. Throws
    /// ClientError when there is no well-formed reply; messages read like
    /// "cannot reach mpiod at PATH: no such file (is mpiod running?)". A connection-level
    /// refusal by the daemon ("permission denied: ...") is thrown as permission_denied.
    ControlReply call(const nlohmann::json& request) const;
    /// As call(), but the result is only printed (`printed`, in the layout of dump(2)),
    /// never held as a document: for --json output of large listings.
    ControlReply call_printed(const nlohmann::json& request) const;

    const std::string& socket_path() const noexcept { return socket_path_; }

private:
    std::string call_line(const nlohmann::json& request) const; // the reply line

    std::string socket_path_;
    std::chrono::milliseconds timeout_;
};

} // namespace mpiod::ctl
