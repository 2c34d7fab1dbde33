// How an errno from libnbd (a server's NBD error or a local connection failure) maps to the
// engine's outcome: may another path succeed, or is it the storage's own answer?
#pragma once

#include "core/io_result.hpp"

namespace mpiod {

/// 0 -> ok. Connection and transport failures (ENOTCONN, ESHUTDOWN, ECONNRESET, EPIPE,
/// ETIMEDOUT, EIO, ENOMEM) -> path_error. The storage's answers (ENOSPC, EPERM, EROFS, EINVAL,
/// ENOTSUP, EOVERFLOW, EFBIG, EDQUOT) -> target_error. Anything else -> path_error: another
/// path may well succeed, and if none does the engine still ends with an error.
IoResult io_result_from_nbd_errno(int err) noexcept;

} // namespace mpiod
