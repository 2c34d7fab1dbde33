// Mounting, the session thread and unmounting of the FUSE export. The operations themselves are
// in fuse_operations.cpp.
#include "exports/kernel/fuse_export.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <fuse3/fuse_lowlevel.h>
#include <spdlog/spdlog.h>

#include "exports/kernel/fuse_file_table.hpp"
#include "exports/kernel/fuse_operations.hpp"

namespace mpiod {

namespace fs = std::filesystem;

namespace {

/// Time a lazily unmounted filesystem gets to be released by its last user before the
/// connection is aborted, and time an aborted session gets to notice.
constexpr auto grace = std::chrono::seconds(5);

/// The FUSE connection number (its directory in /sys/fs/fuse/connections) of the mount at
/// `dir`, from /proc/self/mountinfo: the kernel names it after the superblock's dev_t. Reading
/// mountinfo, unlike stat(), sends no request to the (maybe not yet running) session.
std::optional<unsigned> fuse_connection_of(const fs::path& dir) {
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    std::optional<unsigned> found;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string id, parent, devno, root, point;
        fields >> id >> parent >> devno >> root >> point;
        if (point != dir.string() || line.find(" - fuse") == std::string::npos) {
            continue;
        }
        unsigned major = 0;
        unsigned minor = 0;
        if (std::sscanf(devno.c_str(), "%u:%u", &major, &minor) == 2) {
            found = (major << 20) | minor; // the last mount on top wins
        }
    }
    return found;
}

void abort_connection(std::optional<unsigned> connection) {
    if (!connection) {
        return;
    }
    const fs::path control = "/sys/fs/fuse/connections";
    if (!fs::exists(control / std::to_string(*connection))) {
        ::mount("fusectl", control.c_str(), "fusectl", 0, nullptr); // may be unmounted
    }
    std::ofstream abort(control / std::to_string(*connection) / "abort");
    abort << "1\n";
}

} // namespace

struct FuseExport::Running {
    std::unique_ptr<FuseSessionContext> ctx; // the session's userdata
    std::shared_ptr<fuse_session> session;
    std::optional<unsigned> connection;
    std::thread thread;
    std::shared_future<void> ended;
    bool thread_done = false;

    /// Waits for the session thread to end, aborting the connection if it does not in time.
    /// Returns false when it could not be stopped (the thread is then left to itself).
    bool stop_thread(const fs::path& dir) {
        if (ended.wait_for(grace) != std::future_status::ready) {
            spdlog::warn("fuse {}: still in use {} s after unmounting; aborting the connection",
                         dir.string(), grace.count());
            abort_connection(connection);
            if (ended.wait_for(grace) != std::future_status::ready) {
                spdlog::error("fuse {}: the session does not stop; leaving it", dir.string());
                // The thread may still use its userdata and session: both are left to it.
                thread.detach();
                (void)ctx.release();
                (void)new std::shared_ptr<fuse_session>(session);
                return false;
            }
        }
        thread.join();
        fuse_session_unmount(session.get()); // closes /dev/fuse; the mount is already gone
        return true;
    }
};

FuseExport::FuseExport(boost::asio::any_io_executor ex, fs::path mount_dir)
    : ex_(ex),
      mount_dir_(std::move(mount_dir)),
      files_(std::make_shared<FuseFileTable>(::geteuid(), ::getegid())),
      worker_(ex) {}

FuseExport::~FuseExport() {
    if (running_) {
        unmount_now();
    }
}

void FuseExport::mount() {
    if (running_) {
        return;
    }
    std::error_code ec;
    fs::create_directories(mount_dir_, ec);
    struct stat st {};
    if (::stat(mount_dir_.c_str(), &st) != 0 && errno == ENOTCONN) {
        // A daemon that died left its mount behind ("transport endpoint is not connected").
        spdlog::warn("fuse {}: clearing a stale mount", mount_dir_.string());
        ::umount2(mount_dir_.c_str(), MNT_DETACH);
    }
    if (ec && !fs::is_directory(mount_dir_)) {
        throw std::runtime_error(fmt::format("cannot create the FUSE directory {}: {}",
                                             mount_dir_.string(), ec.message()));
    }

    auto run = std::make_shared<Running>();
    run->ctx = std::make_unique<FuseSessionContext>();
    run->ctx->ex = ex_;
    run->ctx->files = files_;
    std::vector<std::string> argv_text = {"mpiod", "-o",
                                          "fsname=mpiod,subtype=mpiod,default_permissions"};
    std::vector<char*> argv;
    for (auto& a : argv_text) {
        argv.push_back(a.data());
    }
    fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
    const auto& ops = fuse_export_operations();
    fuse_session* se = fuse_session_new(&args, &ops, sizeof(ops), run->ctx.get());
    fuse_opt_free_args(&args);
    if (se == nullptr) {
        throw std::runtime_error("cannot create a FUSE session (is /dev/fuse there?)");
    }
    run->session = std::shared_ptr<fuse_session>(se, fuse_session_destroy);
    run->ctx->session = run->session;
    if (fuse_session_mount(se, mount_dir_.c_str()) != 0) {
        throw std::runtime_error(fmt::format("cannot mount FUSE at {}", mount_dir_.string()));
    }
    run->connection = fuse_connection_of(mount_dir_);

    std::promise<void> ended;
    run->ended = ended.get_future().share();
    sigset_t all;
    sigset_t old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old); // the session thread inherits: signals stay ours
    run->thread = std::thread([se, ended = std::move(ended)]() mutable {
        fuse_session_loop(se); // returns once the connection is gone (unmount or abort)
        ended.set_value();
    });
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    running_ = std::move(run);
    spdlog::info("fuse export mounted at {}", mount_dir_.string());
}

fs::path FuseExport::add_file(std::shared_ptr<IoTarget> target) {
    return mount_dir_ / files_->add(std::move(target)).name;
}

void FuseExport::remove_file(const std::string& name) {
    files_->remove(name);
}

void FuseExport::async_resize(const std::string& name, Completion<ControlResult<>> done) {
    const FuseFile* f = files_->refresh(name);
    if (f == nullptr || !running_) {
        boost::asio::post(ex_, [done = std::move(done), name]() mutable {
            std::move(done)(ControlError::not_found(fmt::format("no FUSE file '{}'", name)));
        });
        return;
    }
    // The notification writes to /dev/fuse and the kernel may ask us questions meanwhile:
    // not on `ex`.
    worker_.run(
        [session = running_->session, ino = f->ino] {
            int r = fuse_lowlevel_notify_inval_inode(session.get(), ino, 0, 0);
            if (r < 0 && r != -ENOENT) { // ENOENT: the kernel has not looked the file up yet
                throw std::system_error(-r, std::system_category(), "fuse inval_inode");
            }
        },
        std::move(done));
}

void FuseExport::async_unmount(Completion<ControlResult<>> done) {
    if (!running_) {
        boost::asio::post(ex_, [done = std::move(done)]() mutable { std::move(done)(success()); });
        return;
    }
    auto run = std::move(running_);
    auto dir = mount_dir_;
    auto stopped = std::make_shared<bool>(false);
    worker_.run(
        [run, dir, stopped] {
            if (::umount2(dir.c_str(), MNT_DETACH) != 0 && errno != EINVAL) {
                spdlog::warn("fuse {}: umount: {}", dir.string(),
                             std::system_category().message(errno));
                abort_connection(run->connection);
            }
            *stopped = run->stop_thread(dir);
        },
        [run, dir, stopped, done = std::move(done)](ControlResult<> ran) mutable {
            if (ran && !*stopped) {
                ran = ControlError::failed(
                    fmt::format("the FUSE session at {} did not stop", dir.string()));
            }
            if (ran) {
                spdlog::info("fuse export at {} unmounted", dir.string());
            }
            std::move(done)(std::move(ran));
        });
}

void FuseExport::unmount_now() {
    if (!running_) {
        return;
    }
    auto run = std::move(running_);
    abort_connection(run->connection);
    ::umount2(mount_dir_.c_str(), MNT_DETACH);
    run->stop_thread(mount_dir_);
}

} // namespace mpiod
