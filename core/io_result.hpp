// The one outcome type for I/O. Every transport maps its native errors to an IoStatus
// once, at its boundary; every export maps IoStatus to its protocol once, at its edge.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/io_request.hpp"

namespace mpiod {

enum class IoStatus : std::uint8_t {
    ok,
    path_error,   // connection lost, reset, EIO from the path: another path may succeed
    timed_out,    // the engine's per-I/O deadline fired on this path
    target_error, // the storage's own answer (ENOSPC, EPERM, medium error): same on every path
    no_path,      // the LU had no usable path for longer than no_path_retry
    cancelled,    // the LU or daemon is stopping
};

struct IoResult {
    IoResult() = default;
    IoResult(IoStatus s, int err = 0) noexcept : status(s), error(err) {}

    IoStatus status = IoStatus::ok;
    int error = 0; // errno-style detail: meaningful for target_error, informative otherwise
    /// A read that succeeded into another buffer than the one it was submitted with, because
    /// an attempt left on a hung path still owns that one and may write into it late. The
    /// submitter uses this buffer and must not read the one it submitted. Empty otherwise.
    IoBuffer data;
    /// The same for a block status: the extents when not in the list it was submitted with.
    BlockExtentsPtr extents;

    bool ok() const noexcept { return status == IoStatus::ok; }
    static IoResult success() noexcept { return {}; }
    static IoResult path(int err) noexcept { return {IoStatus::path_error, err}; }
    static IoResult target(int err) noexcept { return {IoStatus::target_error, err}; }
};

/// True when the same I/O may succeed on another path (kernel analogue: blk_path_error()).
constexpr bool is_path_error(IoStatus s) noexcept {
    return s == IoStatus::path_error || s == IoStatus::timed_out;
}

/// The errno an application should see for a final result (0 for success).
int to_errno(const IoResult& r) noexcept;

std::string_view to_string(IoStatus s) noexcept;

/// "path_error (errno 104)": an outcome as the logs and last_error show it.
std::string describe(const IoResult& r);

} // namespace mpiod
