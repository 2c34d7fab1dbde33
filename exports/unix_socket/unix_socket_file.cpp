// Binding, stale-file replacement and removal of a listening Unix socket file.
#include "exports/unix_socket/unix_socket_file.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

namespace mpiod {

namespace asio = boost::asio;
using local_stream = asio::local::stream_protocol;

namespace {

class ListenError {
public:
    ListenError(const std::string& what, const std::filesystem::path& path)
        : prefix_(what + ": cannot listen on " + path.string() + ": ") {}
    [[noreturn]] void raise(const std::string& reason) const {
        throw std::runtime_error(prefix_ + reason);
    }

private:
    std::string prefix_;
};

/// Removes a socket file nobody listens on; refuses live sockets and other kinds of files.
void remove_stale(const asio::any_io_executor& ex, const std::filesystem::path& path,
                  const ListenError& error) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) {
            return;
        }
        error.raise(std::string("cannot inspect the existing file: ") + std::strerror(errno));
    }
    if (!S_ISSOCK(st.st_mode)) {
        error.raise("a file that is not a socket is in the way; not replacing it");
    }
    // A non-blocking connect answers at once: refused means stale, anything else means alive.
    local_stream::socket probe(ex);
    boost::system::error_code ec;
    probe.open(local_stream(), ec);
    probe.non_blocking(true, ec);
    probe.connect(local_stream::endpoint(path.string()), ec);
    if (!ec || ec == asio::error::would_block || ec == asio::error::try_again) {
        error.raise("another server is listening there (is mpiod already running?)");
    }
    if (ec != asio::error::connection_refused) {
        error.raise("cannot probe the existing socket: " + ec.message());
    }
    spdlog::info("replacing stale socket {}", path.string());
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        error.raise(std::string("cannot remove the stale socket: ") + std::strerror(errno));
    }
}

} // namespace

UnixSocketFile UnixSocketFile::listen(local_stream::acceptor& acceptor,
                                      const std::filesystem::path& path, mode_t mode,
                                      const std::string& what) {
    const ListenError error(what, path);
    if (path.empty() || path.native().size() >= sizeof(sockaddr_un::sun_path)) {
        error.raise("a Unix socket path is 1 to " +
                    std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes long");
    }
    if (path.has_parent_path()) {
        std::error_code dir_ec;
        std::filesystem::create_directories(path.parent_path(), dir_ec);
        if (dir_ec) {
            error.raise("cannot create its directory: " + dir_ec.message());
        }
    }
    remove_stale(acceptor.get_executor(), path, error);

    boost::system::error_code ec;
    bool bound = false;
    acceptor.open(local_stream(), ec);
    if (!ec) {
        // The mode is set on the socket before bind so the file is never more open than `mode`.
        ::fchmod(acceptor.native_handle(), mode);
        acceptor.bind(local_stream::endpoint(path.string()), ec);
        bound = !ec;
    }
    if (!ec && ::chmod(path.c_str(), mode) != 0) {
        ec.assign(errno, boost::system::system_category());
    }
    if (!ec) {
        acceptor.listen(asio::socket_base::max_listen_connections, ec);
    }
    struct stat st {};
    if (!ec && ::stat(path.c_str(), &st) != 0) {
        ec.assign(errno, boost::system::system_category());
    }
    if (ec) {
        boost::system::error_code ignored;
        acceptor.close(ignored);
        if (bound) {
            ::unlink(path.c_str());
        }
        error.raise(ec.message());
    }
    UnixSocketFile file;
    file.path_ = path;
    file.dev_ = st.st_dev;
    file.ino_ = st.st_ino;
    file.bound_ = true;
    return file;
}

void UnixSocketFile::remove() {
    if (!bound_) {
        return;
    }
    bound_ = false;
    struct stat st {};
    if (::lstat(path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == dev_ &&
        st.st_ino == ino_) {
        ::unlink(path_.c_str());
    }
}

} // namespace mpiod
