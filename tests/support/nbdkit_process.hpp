// An nbdkit server for tests: runs on a Unix socket in a private temporary directory, can be
// paused (pause filter), killed and started again on the same socket, and is always stopped.
#pragma once

#include <csignal>
#include <filesystem>
#include <string>
#include <vector>

#include <sys/types.h>

namespace mpiod::test {

struct NbdkitConfig {
    std::string plugin;               // "memory", "file", ...
    std::vector<std::string> args;    // plugin and filter arguments, e.g. "size=64M", "error=EIO"
    std::vector<std::string> filters; // --filter=NAME each; the first is nearest the client
    bool read_only = false;           // -r
    std::vector<std::string> options; // server options before the plugin, e.g. "--no-sr"
    /// Adds pause-control=<dir>/pause.ctl; needs "pause" in filters. Enables pause()/resume().
    bool pause_control = false;
};

/// Owns one nbdkit process (`nbdkit --exit-with-parent -f -U SOCK ...`), its output going to
/// <dir>/nbdkit.log. The destructor kills it (SIGKILL), reaps it and removes the directory.
/// Every wait is bounded by a deadline (10 s); failures throw std::runtime_error with the log.
class NbdkitProcess {
public:
    /// True if an nbdkit executable is on PATH.
    static bool available();

    /// Starts nbdkit and returns once its socket accepts connections.
    explicit NbdkitProcess(NbdkitConfig config);
    ~NbdkitProcess();
    NbdkitProcess(const NbdkitProcess&) = delete;
    NbdkitProcess& operator=(const NbdkitProcess&) = delete;

    const std::filesystem::path& dir() const noexcept { return dir_; }
    std::string socket() const { return (dir_ / "nbdkit.sock").string(); }
    /// nbd+unix:///?socket=<dir>/nbdkit.sock
    std::string uri() const;
    bool running() const noexcept { return pid_ > 0; }

    /// Starts the server again on the same socket (after kill()). Throws if it is running.
    void start();
    /// Sends `signal` and waits for the process to exit (SIGKILL after the deadline).
    void kill(int signal = SIGKILL);

    /// Pause filter: new requests stop being served; returns once nbdkit acknowledged, i.e.
    /// after the requests it was already serving finished.
    void pause();
    void resume();

private:
    void control(char command);
    void wait_until_ready();
    std::string log() const;

    NbdkitConfig config_;
    std::filesystem::path dir_;
    pid_t pid_ = -1;
};

} // namespace mpiod::test
