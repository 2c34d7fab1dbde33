// A listening Unix socket file: bound with its mode set before anyone can connect, a stale
// file left by a dead server replaced, a live server or another kind of file refused, and
// removed at the end only while it is still the file this process created.
#pragma once

#include <filesystem>
#include <string>

#include <sys/stat.h>
#include <sys/types.h>

#include <boost/asio/local/stream_protocol.hpp>

namespace mpiod {

class UnixSocketFile {
public:
    /// Binds and listens `acceptor` (closed) on `path` with `mode` (e.g. 0600); missing parent
    /// directories are created. Throws std::runtime_error "<what>: cannot listen on <path>:
    /// <reason>" (a live server there, a file that is not a socket, a path too long, ...);
    /// the acceptor is then closed and nothing is left behind.
    static UnixSocketFile listen(boost::asio::local::stream_protocol::acceptor& acceptor,
                                 const std::filesystem::path& path, mode_t mode,
                                 const std::string& what);

    UnixSocketFile() = default;

    const std::filesystem::path& path() const noexcept { return path_; }
    /// Unlinks the file if it is still the one listen() bound (not a newer server's). Once.
    void remove();

private:
    std::filesystem::path path_;
    dev_t dev_ = 0;
    ino_t ino_ = 0;
    bool bound_ = false;
};

} // namespace mpiod
