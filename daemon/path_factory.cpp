// URI scheme -> transport.
#include "daemon/path_factory.hpp"

#include <stdexcept>

#include "transports/iscsi/iscsi_transport.hpp"
#include "transports/iscsi/iscsi_uri.hpp"
#include "transports/nbd/nbd_transport.hpp"
#include "transports/sg/sg_transport.hpp"

namespace mpiod {

std::unique_ptr<Transport> make_transport(boost::asio::any_io_executor ex, const std::string& uri) {
    for (const char* scheme : {"nbd://", "nbds://", "nbd+unix://", "nbds+unix://"}) {
        if (uri.rfind(scheme, 0) == 0) {
            return std::make_unique<NbdTransport>(std::move(ex), uri);
        }
    }
    if (is_iscsi_uri(uri)) {
        return std::make_unique<IscsiTransport>(std::move(ex), uri);
    }
    if (uri.rfind("sg:///", 0) == 0) {
        return std::make_unique<SgTransport>(std::move(ex), uri.substr(5));
    }
    throw std::invalid_argument("no transport for '" + redact_iscsi_uri(uri) +
                                "' (supported: nbd://, nbds://, nbd+unix://, nbds+unix://, "
                                "iscsi://, sg:///dev/sgN)");
}

} // namespace mpiod
