// The FUSE low-level operations of the FUSE export. Each runs in the session thread only long
// enough to copy its arguments (a WRITE's data included) and post the work to the executor,
// which owns the file table and the IoTargets and sends the reply when the I/O completes.
#pragma once

#include <memory>

#include <boost/asio/any_io_executor.hpp>

#include "exports/kernel/fuse_file_table.hpp"

struct fuse_session;
struct fuse_lowlevel_ops;

namespace mpiod {

/// The session's userdata. Set up before the session thread starts and constant afterwards.
/// Posted work holds `session` until it has replied, so the session outlives every request.
struct FuseSessionContext {
    boost::asio::any_io_executor ex;
    std::shared_ptr<FuseFileTable> files;
    std::shared_ptr<fuse_session> session;
};

/// The operations table for fuse_session_new() with a FuseSessionContext as userdata.
const fuse_lowlevel_ops& fuse_export_operations();

} // namespace mpiod
