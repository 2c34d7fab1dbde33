// Spawning, probing, pausing and reaping an nbdkit test server.
#include "tests/support/nbdkit_process.hpp"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

#include <fcntl.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ; // NOLINT: POSIX

namespace mpiod::test {

namespace {

constexpr auto deadline_after = std::chrono::seconds(10);
constexpr auto poll_interval = std::chrono::milliseconds(5);

/// A connected Unix stream socket, or -1.
int connect_unix(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) {
        return -1;
    }
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

} // namespace

bool NbdkitProcess::available() {
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
    for (std::string d; std::getline(dirs, d, ':');) {
        if (!d.empty() && ::access((d + "/nbdkit").c_str(), X_OK) == 0) {
            return true;
        }
    }
    return false;
}

NbdkitProcess::NbdkitProcess(NbdkitConfig config) : config_(std::move(config)) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mpiod-nbdkit-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
        throw std::system_error(errno, std::generic_category(), "mkdtemp");
    }
    dir_ = tmpl;
    try {
        start();
    } catch (...) {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
        throw;
    }
}

NbdkitProcess::~NbdkitProcess() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

std::string NbdkitProcess::uri() const {
    return "nbd+unix:///?socket=" + socket();
}

void NbdkitProcess::start() {
    if (pid_ > 0) {
        throw std::logic_error("nbdkit is already running");
    }
    // nbdkit neither removes its socket on exit nor replaces a stale one.
    std::error_code ignored;
    std::filesystem::remove(socket(), ignored);

    std::vector<std::string> args = {"nbdkit", "--exit-with-parent", "-f", "-U", socket()};
    if (config_.read_only) {
        args.emplace_back("-r");
    }
    args.insert(args.end(), config_.options.begin(), config_.options.end());
    for (const auto& f : config_.filters) {
        args.push_back("--filter=" + f);
    }
    args.push_back(config_.plugin);
    args.insert(args.end(), config_.args.begin(), config_.args.end());
    if (config_.pause_control) {
        args.push_back("pause-control=" + (dir_ / "pause.ctl").string());
    }
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);

    std::string log_path = (dir_ / "nbdkit.log").string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_t pid = -1;
    int rc = ::posix_spawnp(&pid, "nbdkit", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        throw std::system_error(rc, std::generic_category(), "posix_spawnp nbdkit");
    }
    pid_ = pid;
    wait_until_ready();
}

void NbdkitProcess::wait_until_ready() {
    auto deadline = std::chrono::steady_clock::now() + deadline_after;
    for (;;) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("nbdkit exited while starting:\n" + log());
        }
        int fd = connect_unix(socket());
        if (fd >= 0) {
            ::close(fd);
            return;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            kill(SIGKILL);
            throw std::runtime_error("nbdkit did not listen within 10 s:\n" + log());
        }
        std::this_thread::sleep_for(poll_interval);
    }
}

void NbdkitProcess::kill(int signal) {
    if (pid_ <= 0) {
        return;
    }
    ::kill(pid_, signal);
    auto deadline = std::chrono::steady_clock::now() + deadline_after;
    while (::waitpid(pid_, nullptr, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() >= deadline) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
            break;
        }
        std::this_thread::sleep_for(poll_interval);
    }
    pid_ = -1;
}

void NbdkitProcess::pause() {
    control('p');
}

void NbdkitProcess::resume() {
    control('r');
}

void NbdkitProcess::control(char command) {
    if (!config_.pause_control) {
        throw std::logic_error("nbdkit was started without pause_control");
    }
    std::string path = (dir_ / "pause.ctl").string();
    int fd = connect_unix(path);
    if (fd < 0) {
        throw std::system_error(errno, std::generic_category(), "connect " + path);
    }
    timeval tv{};
    tv.tv_sec = std::chrono::duration_cast<std::chrono::seconds>(deadline_after).count();
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char reply = 0;
    bool ok = ::write(fd, &command, 1) == 1 && ::read(fd, &reply, 1) == 1;
    ::close(fd);
    // The filter answers each command with its upper-case letter.
    if (!ok || reply != static_cast<char>(command - 'a' + 'A')) {
        throw std::runtime_error(std::string("nbdkit pause control: no answer to '") + command +
                                 "'; nbdkit log:\n" + log());
    }
}

std::string NbdkitProcess::log() const {
    std::ifstream in(dir_ / "nbdkit.log");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

} // namespace mpiod::test
