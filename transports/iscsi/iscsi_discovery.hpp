// SendTargets discovery: every block-device LUN behind one iSCSI portal, as iscsi:// URIs
// that IscsiTransport (and the path configuration) take.
#pragma once

#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/error_code.hpp>

#include "core/completion.hpp"
#include "transports/iscsi/iscsi_connection.hpp"

namespace mpiod {

/// Called once, posted, with the URIs (iscsi://[cred@]portal/target-iqn/lun) or an error.
using IscsiDiscoveryCompletion = Completion<boost::system::error_code, std::vector<std::string>>;

struct IscsiDiscoveryOptions {
    IscsiConnectionOptions connection;
    std::chrono::milliseconds timeout{20000}; // the whole discovery
};

/// `portal_uri`: iscsi://[user[%password]@]host[:port] (a trailing '/...' is ignored). Logs in
/// a discovery session, asks SendTargets=All, then logs in to each target through the same
/// portal, reads REPORT LUNS and keeps the LUNs whose standard INQUIRY says "block device,
/// present" (so tgt's LUN 0 controller is left out). The URIs use the given portal (not the
/// other portals a target may list) and carry the given CHAP credentials.
/// Errors: invalid_argument (bad URI), connection_refused (discovery login), timed_out, or
/// io_error (SendTargets failed). A target that refuses login or REPORT LUNS is skipped and
/// logged; its LUNs are missing from the list.
void discover_iscsi_targets(boost::asio::any_io_executor ex, const std::string& portal_uri,
                            IscsiDiscoveryCompletion done, IscsiDiscoveryOptions opts = {});

} // namespace mpiod
