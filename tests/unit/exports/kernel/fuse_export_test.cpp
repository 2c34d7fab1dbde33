// The FUSE export against a real kernel FUSE mount (needs root and /dev/fuse): a MemoryTarget
// appears as a file whose reads, writes, fsync and fallocate reach the target.
#include <cerrno>
#include <cstring>
#include <future>
#include <thread>

#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>

#include "exports/kernel/fuse_export.hpp"
#include "exports/kernel/loop_device.hpp"
#include "tests/support/memory_target.hpp"
#include "tests/support/temp_dir.hpp"

using namespace mpiod;

namespace {

/// The io_context on a background thread; the test thread does file system calls.
class IoThread {
public:
    IoThread() : work_(io_.get_executor()), thread_([this] { io_.run(); }) {}
    ~IoThread() {
        work_.reset();
        io_.stop();
        thread_.join();
    }
    template <typename F>
    auto on_io(F f) -> std::invoke_result_t<F&> {
        auto task = std::make_shared<std::packaged_task<std::invoke_result_t<F&>()>>(std::move(f));
        auto result = task->get_future();
        boost::asio::post(io_, [task] { (*task)(); });
        REQUIRE(result.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
        return result.get();
    }
    boost::asio::io_context& io() { return io_; }

private:
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::thread thread_;
};

ExportInfo info_of(std::uint64_t size) {
    ExportInfo info;
    info.size_bytes = size;
    info.max_request = 64 << 10;
    info.can_flush = true;
    info.can_trim = true;
    info.can_write_zeroes = true;
    return info;
}

/// A 4 MiB MemoryTarget "lu0" exported as a file on a fresh FUSE mount under `dir`.
struct ExportedLu {
    std::shared_ptr<test::MemoryTarget> target;
    std::unique_ptr<FuseExport> fuse;
    std::filesystem::path file;
};

ExportedLu export_lu(IoThread& io, const std::filesystem::path& dir) {
    REQUIRE(::geteuid() == 0);                        // mounting needs root
    REQUIRE(::access("/dev/fuse", R_OK | W_OK) == 0); // and the FUSE device
    ExportedLu lu;
    lu.fuse = std::make_unique<FuseExport>(io.io().get_executor(), dir / "fuse");
    lu.file = io.on_io([&] {
        lu.target =
            std::make_shared<test::MemoryTarget>(io.io().get_executor(), "lu0", info_of(4 << 20));
        lu.fuse->mount();
        return lu.fuse->add_file(lu.target);
    });
    return lu;
}

/// Runs `start(done)` on the io thread and waits for `done`: "" for success, else the message.
template <typename Start>
std::string await_on_io(IoThread& io, Start start) {
    auto promise = std::make_shared<std::promise<std::string>>();
    auto result = promise->get_future();
    io.on_io([&] {
        start([promise](const ControlResult<>& r) {
            promise->set_value(r ? std::string() : r.error().message);
        });
        return 0;
    });
    REQUIRE(result.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
    return result.get();
}

/// Unmounts and lets the export and the target go on the io thread; the unmount's error.
std::string unmount(IoThread& io, ExportedLu& lu) {
    std::string error =
        await_on_io(io, [&](auto done) { lu.fuse->async_unmount(std::move(done)); });
    io.on_io([&] {
        lu.fuse.reset();
        lu.target.reset();
        return 0;
    });
    return error;
}

} // namespace

TEST_CASE("a FUSE-exported LU is a fixed-size file whose I/O, fsync and punch-hole reach it") {
    test::TempDir dir;
    IoThread io;
    ExportedLu lu = export_lu(io, dir.path());
    auto& target = lu.target;
    const auto& file = lu.file;
    CHECK(file == dir.path() / "fuse" / "lu0");

    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK(st.st_size == (4 << 20));
    CHECK((st.st_mode & 0777) == 0600);

    int fd = ::open(file.c_str(), O_RDWR);
    REQUIRE(fd >= 0);
    std::vector<char> out(256 << 10);
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = static_cast<char>(i * 13 + 1);
    }
    CHECK(::pwrite(fd, out.data(), out.size(), 1 << 20) == static_cast<ssize_t>(out.size()));
    CHECK(::fsync(fd) == 0);
    std::vector<char> in(out.size());
    CHECK(::pread(fd, in.data(), in.size(), 1 << 20) == static_cast<ssize_t>(in.size()));
    CHECK(in == out);
    // Past the end: a short write, then ENOSPC; reads return what exists.
    CHECK(::pwrite(fd, out.data(), 8192, (4 << 20) - 4096) == 4096);
    errno = 0;
    CHECK(::pwrite(fd, out.data(), 4096, 4 << 20) == -1);
    CHECK(errno == ENOSPC);
    CHECK(::pread(fd, in.data(), 8192, (4 << 20) - 4096) == 4096);
    // Punch-hole: the range reads back as zeroes.
    REQUIRE(::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 1 << 20, 65536) == 0);
    CHECK(::pread(fd, in.data(), 65536, 1 << 20) == 65536);
    CHECK(std::all_of(in.begin(), in.begin() + 65536, [](char c) { return c == 0; }));
    // The size is the LU's.
    CHECK(::ftruncate(fd, 1 << 20) == -1);
    ::close(fd);

    auto counts = io.on_io([&] {
        return std::array<std::uint64_t, 4>{target->count(IoOp::write), target->count(IoOp::flush),
                                            target->count(IoOp::write_zeroes),
                                            target->contract_violations()};
    });
    CHECK(counts[0] >= 4); // 256 KiB in requests of at most 64 KiB, and the cut write
    CHECK(counts[1] >= 1);
    CHECK(counts[2] == 1);
    CHECK(counts[3] == 0);

    CHECK(unmount(io, lu).empty());
    CHECK(::stat(file.c_str(), &st) != 0); // gone with the mount
}

TEST_CASE("a FUSE file and its loop device follow the LU when it grows") {
    REQUIRE(::access("/dev/loop-control", R_OK | W_OK) == 0);
    test::TempDir dir;
    IoThread io;
    ExportedLu lu = export_lu(io, dir.path());
    auto& target = lu.target;
    auto& fuse = lu.fuse;
    const auto& file = lu.file;
    // Attaching asks the FUSE file for its size: off the io thread, as KernelExports does.
    auto loop = LoopDevice::attach(file, 512, false);
    auto device_size = [&] {
        int fd = ::open(loop.path().c_str(), O_RDONLY);
        REQUIRE(fd >= 0);
        std::uint64_t bytes = 0;
        REQUIRE(::ioctl(fd, BLKGETSIZE64, &bytes) == 0);
        ::close(fd);
        return bytes;
    };
    CHECK(device_size() == (4u << 20));

    CHECK(await_on_io(io, [&](auto done) {
              target->grow(6 << 20);
              fuse->async_resize("lu0", std::move(done));
          }).empty());
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK(st.st_size == (6 << 20));
    loop.set_capacity();
    CHECK(device_size() == (6u << 20));
    // The new range is usable through the loop device.
    int fd = ::open(loop.path().c_str(), O_RDWR | O_DIRECT);
    REQUIRE(fd >= 0);
    void* block = nullptr;
    REQUIRE(::posix_memalign(&block, 4096, 4096) == 0);
    std::memset(block, 0x5a, 4096);
    CHECK(::pwrite(fd, block, 4096, (5 << 20)) == 4096);
    ::close(fd);
    std::free(block);
    auto written = io.on_io([&] { return static_cast<int>(target->bytes()[5 << 20]); });
    CHECK(written == 0x5a);

    CHECK(await_on_io(io, [&](auto done) { fuse->async_resize("nope", std::move(done)); }) ==
          "no FUSE file 'nope'");

    loop.detach();
    CHECK(unmount(io, lu).empty());
}
