// mpiod-test-serve-memory: serves an in-memory export on a Unix socket until SIGTERM/SIGINT,
// so shell tests can point real NBD tools (nbdinfo, nbdcopy, fio) at the export server.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include <malloc.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include "exports/nbd/nbd_server.hpp"
#include "tests/support/memory_target.hpp"

namespace {

constexpr const char* usage =
    "usage: mpiod-test-serve-memory SOCKET SIZE[K|M|G] [--read-only] [--debug]\n";

/// "64M" -> 67108864; 0 when malformed.
std::uint64_t parse_size(std::string_view s) {
    std::uint64_t value = 0;
    std::size_t i = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
        value = value * 10 + static_cast<std::uint64_t>(s[i] - '0');
    }
    if (i == 0 || i + 1 < s.size()) {
        return 0;
    }
    if (i < s.size()) {
        switch (s[i]) {
        case 'K':
            return value << 10;
        case 'M':
            return value << 20;
        case 'G':
            return value << 30;
        default:
            return 0;
        }
    }
    return value;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fputs(usage, stderr);
        return 2;
    }
    mpiod::ExportInfo info;
    info.size_bytes = parse_size(argv[2]);
    if (info.size_bytes == 0) {
        std::fputs(usage, stderr);
        return 2;
    }
    info.can_flush = info.can_fua = info.can_trim = info.can_write_zeroes = true;
    info.can_multi_conn = true;
    for (int i = 3; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--read-only") {
            info.read_only = true;
        } else if (arg == "--debug") {
            spdlog::set_level(spdlog::level::debug);
        } else {
            std::fputs(usage, stderr);
            return 2;
        }
    }
    // Keep freed request buffers in the heap: otherwise every large buffer is a fresh mmap and
    // page faults dominate large-request benchmarks (the daemon wants the same setting).
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    try {
        boost::asio::io_context io;
        auto target =
            std::make_shared<mpiod::test::MemoryTarget>(io.get_executor(), "memory", info);
        mpiod::NbdServer server(io.get_executor());
        server.listen_unix(argv[1], target);
        boost::asio::signal_set signals(io, SIGINT, SIGTERM);
        signals.async_wait([&](const boost::system::error_code&, int) {
            // A second signal (timeout(1) signals the whole process group too) must not kill
            // the process once the signal_set is gone: keep any further one pending.
            sigset_t set;
            sigemptyset(&set);
            sigaddset(&set, SIGINT);
            sigaddset(&set, SIGTERM);
            sigprocmask(SIG_BLOCK, &set, nullptr);
            server.stop();
        });
        io.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mpiod-test-serve-memory: %s\n", e.what());
        return 1;
    }
    return 0;
}
