// Paths whose identity is learnt from the storage (SCSI VPD 0x83) rather than from the
// configuration: each is opened once to read its WWID, then handed to the daemon, which puts
// it into the LU of that WWID. An iSCSI URI naming only a portal is first expanded by
// SendTargets discovery into one path per LUN behind it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/clock.hpp"
#include "core/transport.hpp"

namespace mpiod {

/// Threading: create and call on `ex`; callbacks run on `ex`.
class PathDiscovery {
public:
    /// A path identified: its id, URI, the WWID it reports and its (closed) transport.
    using Found = std::function<void(const std::string& id, const std::string& uri,
                                     const std::string& wwid, std::unique_ptr<Transport>)>;
    /// Makes a transport for a URI (the daemon's path factory); may throw.
    using Factory =
        std::function<std::unique_ptr<Transport>(boost::asio::any_io_executor, const std::string&)>;

    /// A path that cannot be opened or identified is tried again every `retry`.
    PathDiscovery(boost::asio::any_io_executor ex, Factory factory, Millis retry, Found found);
    ~PathDiscovery();
    PathDiscovery(const PathDiscovery&) = delete;
    PathDiscovery& operator=(const PathDiscovery&) = delete;

    /// Starts identifying the path (or discovering the LUNs behind a portal-only iscsi URI;
    /// they get the ids "<id>.<n>", n from 1 in discovery order).
    void add(const std::string& id, const std::string& uri);
    /// Forgets one path still being identified (it left the configuration); no-op otherwise.
    void remove(const std::string& id);
    /// Forgets every path still being identified; no callback runs afterwards.
    void stop();

    /// True for iscsi://[cred@]host[:port] with nothing (or only "/") after the portal.
    static bool is_portal_only(const std::string& uri);

private:
    struct Pending;

    void identify(const std::shared_ptr<Pending>& p);
    void discover(const std::shared_ptr<Pending>& p);
    void retry_later(const std::shared_ptr<Pending>& p, const std::string& why);

    boost::asio::any_io_executor ex_;
    Factory factory_;
    Millis retry_;
    Found found_;
    std::map<std::string, std::shared_ptr<Pending>> pending_; // by path id
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace mpiod
