// Names of core enumerations, as shown in logs, mpiod-ctl and the config file.
#include <cerrno>
#include <string>

#include "core/control_result.hpp"
#include "core/io_request.hpp"
#include "core/io_result.hpp"
#include "core/lu_settings.hpp"
#include "core/path_state.hpp"

namespace mpiod {

std::string_view to_string(IoOp op) noexcept {
    switch (op) {
    case IoOp::read:
        return "read";
    case IoOp::write:
        return "write";
    case IoOp::flush:
        return "flush";
    case IoOp::trim:
        return "trim";
    case IoOp::write_zeroes:
        return "write_zeroes";
    case IoOp::block_status:
        return "block_status";
    case IoOp::cache:
        return "cache";
    }
    return "?";
}

std::string_view to_string(IoStatus s) noexcept {
    switch (s) {
    case IoStatus::ok:
        return "ok";
    case IoStatus::path_error:
        return "path_error";
    case IoStatus::timed_out:
        return "timed_out";
    case IoStatus::target_error:
        return "target_error";
    case IoStatus::no_path:
        return "no_path";
    case IoStatus::cancelled:
        return "cancelled";
    }
    return "?";
}

int to_errno(const IoResult& r) noexcept {
    switch (r.status) {
    case IoStatus::ok:
        return 0;
    case IoStatus::target_error:
        return r.error != 0 ? r.error : EIO;
    case IoStatus::cancelled:
        return ESHUTDOWN;
    case IoStatus::path_error:
    case IoStatus::timed_out:
    case IoStatus::no_path:
        return EIO;
    }
    return EIO;
}

std::string_view to_string(PathState s) noexcept {
    switch (s) {
    case PathState::active:
        return "active";
    case PathState::standby:
        return "standby";
    case PathState::failed:
        return "failed";
    case PathState::admin_failed:
        return "admin-failed";
    case PathState::reinstating:
        return "reinstating";
    }
    return "?";
}

std::optional<PathState> path_state_from_string(std::string_view s) noexcept {
    for (auto st : all_path_states) {
        if (to_string(st) == s) {
            return st;
        }
    }
    return std::nullopt;
}

std::string to_string(const NoPathRetry& n) {
    switch (n.mode) {
    case NoPathRetry::Mode::fail:
        return "fail";
    case NoPathRetry::Mode::queue:
        return "queue";
    case NoPathRetry::Mode::timeout:
        return std::to_string(n.timeout.count()) + "ms";
    }
    return "?";
}

std::string to_string(const Failback& f) {
    switch (f.mode) {
    case Failback::Mode::immediate:
        return "immediate";
    case Failback::Mode::manual:
        return "manual";
    case Failback::Mode::deferred:
        return std::to_string(f.delay.count()) + "ms";
    }
    return "?";
}

std::string describe(const IoResult& r) {
    return std::string(to_string(r.status)) + " (errno " + std::to_string(r.error) + ")";
}

std::string_view to_string(ControlError::Kind kind) noexcept {
    switch (kind) {
    case ControlError::Kind::not_found:
        return "not_found";
    case ControlError::Kind::invalid:
        return "invalid";
    case ControlError::Kind::busy:
        return "busy";
    case ControlError::Kind::failed:
        return "failed";
    }
    return "?";
}

} // namespace mpiod
