// A FUSE filesystem presenting each IoTarget (LU) as one regular file under a mount directory,
// so that the host kernel can use it (a loop device on top gives a /dev/loopN).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "core/completion.hpp"
#include "core/io_target.hpp"
#include "exports/kernel/blocking_worker.hpp"

namespace mpiod {

class FuseFileTable;

/// Threading: create and call every member on `ex`, the executor of the IoTargets. The FUSE
/// session runs on its own thread, which only reads requests from /dev/fuse and posts them to
/// `ex`; the file table, the I/O and the replies all happen on `ex` (no locks). Blocking
/// teardown (unmount, waiting for the session thread) runs on a BlockingWorker, because the
/// kernel may still need `ex` to answer requests meanwhile.
///
/// Files: mode 0600 (0400 for a read-only target), the target's size (resize() after it
/// grew); read, write, fsync (flush),
/// fallocate punch-hole (WRITE_ZEROES that may unmap) and zero-range (WRITE_ZEROES keeping
/// the allocation). Every open is direct I/O: no page cache between the file and the LU.
/// Writes must be aligned to the target's minimum block (EINVAL otherwise).
class FuseExport {
public:
    FuseExport(boost::asio::any_io_executor ex, std::filesystem::path mount_dir);
    /// Calls unmount_now() if still mounted.
    ~FuseExport();
    FuseExport(const FuseExport&) = delete;
    FuseExport& operator=(const FuseExport&) = delete;

    /// Creates the directory, clears a stale FUSE mount a dead daemon left there, mounts and
    /// starts the session thread. mount(2) does not wait for the session, so this does not
    /// block on `ex`. Throws std::runtime_error naming the directory.
    void mount();
    bool mounted() const noexcept { return running_ != nullptr; }
    const std::filesystem::path& mount_dir() const noexcept { return mount_dir_; }

    /// Adds the target's file (named target->name()) and returns its path. Throws
    /// std::invalid_argument for a name that cannot be a file name or is taken.
    std::filesystem::path add_file(std::shared_ptr<IoTarget> target);
    /// Forgets the file; opens already made fail with ENOENT from now on.
    void remove_file(const std::string& name);

    /// The target of file `name` changed size: its attributes follow and the kernel's cached
    /// ones are dropped (off `ex`), so stat and a loop device's LOOP_SET_CAPACITY see the new
    /// size. `done` on `ex`: success, or an error (no such file, the kernel refused).
    void async_resize(const std::string& name, Completion<ControlResult<>> done);

    /// Unmounts lazily and waits (off `ex`) for the session to end. If something still holds a
    /// file after a grace period (a loop device that is still mounted), the FUSE connection
    /// is aborted: its users get errors. `done` on `ex`; never fails when not mounted.
    void async_unmount(Completion<ControlResult<>> done);
    /// Aborts the connection, unmounts and joins the session thread, blocking the caller: for
    /// teardown when `ex` no longer runs (I/O still in flight fails).
    void unmount_now();

private:
    struct Running;

    boost::asio::any_io_executor ex_;
    std::filesystem::path mount_dir_;
    std::shared_ptr<FuseFileTable> files_;
    std::shared_ptr<Running> running_;
    BlockingWorker worker_; // last: joined first
};

} // namespace mpiod
