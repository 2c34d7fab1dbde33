// The single Catch2 main shared by every unit test binary. Logs stay quiet unless
// MPIOD_TEST_LOG names a level (e.g. MPIOD_TEST_LOG=debug) to help debug a failure.
#define CATCH_CONFIG_MAIN
#include <csignal>
#include <cstdlib>

#include <catch2/catch.hpp>
#include <spdlog/spdlog.h>

namespace {

// As in the daemon (daemon/main.cpp): libiscsi's writev() on a dropped connection must not
// kill the test process.
const bool no_sigpipe = [] {
    std::signal(SIGPIPE, SIG_IGN);
    return true;
}();

const bool quiet_logs = [] {
    const char* level = std::getenv("MPIOD_TEST_LOG");
    spdlog::set_level(level != nullptr ? spdlog::level::from_str(level) : spdlog::level::off);
    return true;
}();

} // namespace
