// URI scheme -> transport.
#include "daemon/path_factory.hpp"

#include <stdexcept>

#include "transports/nbd/nbd_transport.hpp"

namespace mpiod {

std::unique_ptr<Transport> make_transport(boost::asio::any_io_executor ex, const std::string& uri) {
    for (const char* scheme : {"nbd://", "nbds://", "nbd+unix://", "nbds+unix://"}) {
        if (uri.rfind(scheme, 0) == 0) {
            return std::make_unique<NbdTransport>(std::move(ex), uri);
        }
    }
    throw std::invalid_argument("no transport for '" + uri +
                                "' (supported: nbd://, nbds://, nbd+unix://, nbds+unix://)");
}

} // namespace mpiod
