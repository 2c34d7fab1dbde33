// mpiod: the multipath I/O daemon's entry point.
#include <csignal>
#include <iostream>

#include <malloc.h>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "config/daemon_config.hpp"
#include "daemon/daemon.hpp"
#include "daemon/file_limit.hpp"
#include "daemon/logging.hpp"
#include "daemon/scanned_paths.hpp"

int main(int argc, char** argv) {
    // A peer that drops its connection must cost a path, not the daemon: libiscsi writes its
    // PDUs with writev(), which raises SIGPIPE on a reset connection (Asio and libnbd use
    // MSG_NOSIGNAL). EPIPE then comes back as an error like any other.
    std::signal(SIGPIPE, SIG_IGN);
    // I/O buffers of up to 32 MiB come and go per request: keep glibc from returning each
    // one to the kernel and faulting it back in (measured: halves 1 MiB throughput).
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 128 << 20);
    CLI::App app{"mpiod: userspace multipath I/O daemon"};
    std::string config_file = "/etc/mpiod/mpiod.yaml";
    bool check_only = false;
    app.add_option("-c,--config", config_file, "configuration file (YAML)");
    app.add_flag("--check", check_only, "validate the configuration and exit");
    app.set_version_flag("--version", std::string("mpiod ") + MPIOD_VERSION);
    CLI11_PARSE(app, argc, argv);

    mpiod::DaemonConfig config;
    try {
        config = mpiod::load_config(config_file);
    } catch (const std::exception& e) {
        std::cerr << "mpiod: " << e.what() << '\n';
        return 2;
    }
    if (check_only) {
        std::cout << config_file << ": ok (" << config.lus.size() << " LUs, " << config.paths.size()
                  << " paths)\n";
        return 0;
    }
    mpiod::setup_logging(config.log_level);
    spdlog::info("mpiod {} starting with {}", MPIOD_VERSION, config_file);
    mpiod::add_scanned_paths(config);
    if (auto refusal = mpiod::raise_file_limit(config); !refusal.empty()) {
        spdlog::critical("start-up refused: {}", refusal);
        return 1;
    }
    mpiod::Daemon daemon(std::move(config));
    return daemon.run();
}
