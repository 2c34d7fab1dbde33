// The one result shape of the control plane: an operator action, a lookup or a reload
// either succeeds (with a value) or fails with a ControlError saying what kind of failure
// it is and why, in words for the operator. Boost.Outcome's result carries it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <boost/outcome/result.hpp>

namespace mpiod {

struct ControlError {
    enum class Kind : std::uint8_t {
        not_found, // no such LU or path
        invalid,   // a value the daemon does not take (unknown policy, bad file)
        busy,      // refused for now: the same work is running, or the daemon is stopping
        failed,    // tried and did not work
    };
    Kind kind = Kind::failed;
    std::string message;

    static ControlError not_found(std::string m) { return {Kind::not_found, std::move(m)}; }
    static ControlError invalid(std::string m) { return {Kind::invalid, std::move(m)}; }
    static ControlError busy(std::string m) { return {Kind::busy, std::move(m)}; }
    static ControlError failed(std::string m) { return {Kind::failed, std::move(m)}; }
};

std::string_view to_string(ControlError::Kind kind) noexcept;

/// `ControlResult<>` for actions, `ControlResult<T>` for lookups. Reading the value of a
/// failed result (or the error of a successful one) terminates: check first.
template <class T = void>
using ControlResult =
    boost::outcome_v2::result<T, ControlError, boost::outcome_v2::policy::terminate>;

/// The success of a ControlResult<> (`return success();`).
inline auto success() {
    return boost::outcome_v2::success();
}

} // namespace mpiod
