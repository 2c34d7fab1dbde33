// Turns a configured path into a transport: the one place that knows which transport
// serves which URI scheme.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "core/transport.hpp"

namespace mpiod {

/// An NBD URI (nbd://, nbds://, nbd+unix://, nbds+unix://) gives an NbdTransport, an
/// iscsi://[user[%password]@]host[:port]/target-iqn/lun URI an IscsiTransport. Throws
/// std::invalid_argument naming the URI for anything else.
std::unique_ptr<Transport> make_transport(boost::asio::any_io_executor ex, const std::string& uri);

} // namespace mpiod
