// Identify-then-assign for SCSI paths; see path_discovery.hpp.
#include "daemon/path_discovery.hpp"

#include <utility>

#include <spdlog/spdlog.h>

#include "transports/iscsi/iscsi_discovery.hpp"
#include "transports/iscsi/iscsi_uri.hpp"

namespace mpiod {

struct PathDiscovery::Pending {
    std::string id;
    std::string uri;
    std::unique_ptr<Transport> transport;
    boost::asio::steady_timer timer;
    int attempts = 0;
    bool cancelled = false; // remove(): no callback may act on it any more

    Pending(boost::asio::any_io_executor ex, std::string i, std::string u)
        : id(std::move(i)), uri(std::move(u)), timer(std::move(ex)) {}
};

PathDiscovery::PathDiscovery(boost::asio::any_io_executor ex, Factory factory, Millis retry,
                             Found found)
    : ex_(std::move(ex)), factory_(std::move(factory)), retry_(retry), found_(std::move(found)) {}

PathDiscovery::~PathDiscovery() {
    stop();
}

bool PathDiscovery::is_portal_only(const std::string& uri) {
    if (!is_iscsi_uri(uri)) {
        return false;
    }
    auto rest = uri.substr(std::string_view("iscsi://").size());
    if (auto at = rest.rfind('@'); at != std::string::npos) {
        rest = rest.substr(at + 1);
    }
    auto slash = rest.find('/');
    return slash == std::string::npos || slash + 1 == rest.size();
}

void PathDiscovery::add(const std::string& id, const std::string& uri) {
    auto p = std::make_shared<Pending>(ex_, id, uri);
    pending_[id] = p;
    if (is_portal_only(uri)) {
        discover(p);
    } else {
        identify(p);
    }
}

void PathDiscovery::remove(const std::string& id) {
    auto it = pending_.find(id);
    if (it == pending_.end()) {
        return;
    }
    auto p = it->second;
    pending_.erase(it);
    p->cancelled = true;
    p->timer.cancel();
    if (p->transport) {
        p->transport->close();
    }
}

void PathDiscovery::stop() {
    *alive_ = false;
    for (auto& [id, p] : pending_) {
        p->timer.cancel();
        if (p->transport) {
            p->transport->close();
        }
    }
    pending_.clear();
}

void PathDiscovery::discover(const std::shared_ptr<Pending>& p) {
    discover_iscsi_targets(
        ex_, p->uri,
        [this, alive = alive_, p](boost::system::error_code ec, std::vector<std::string> uris) {
            if (!*alive || p->cancelled) {
                return;
            }
            if (ec || uris.empty()) {
                retry_later(p, ec ? "discovery: " + ec.message() : "discovery found no LUN");
                return;
            }
            pending_.erase(p->id);
            spdlog::info("path {}: {} LUN(s) behind {}", p->id, uris.size(),
                         redact_iscsi_uri(p->uri));
            for (std::size_t i = 0; i < uris.size(); ++i) {
                add(p->id + "." + std::to_string(i + 1), uris[i]);
            }
        });
}

void PathDiscovery::identify(const std::shared_ptr<Pending>& p) {
    try {
        p->transport = factory_(ex_, p->uri);
    } catch (const std::exception& e) {
        spdlog::error("path {}: {}", p->id, e.what());
        pending_.erase(p->id);
        return;
    }
    p->transport->async_open([this, alive = alive_, p](boost::system::error_code ec,
                                                       TransportInfo info) {
        if (!*alive || p->cancelled) {
            return;
        }
        if (ec) {
            retry_later(p, "open: " + ec.message());
            return;
        }
        if (info.wwid.empty()) {
            retry_later(p, "the storage reports no identity (no VPD 0x83 designator or serial); "
                           "give the path a wwid in the configuration");
            return;
        }
        p->transport->close(); // the LU reopens it: a path is re-identified on every open
        pending_.erase(p->id);
        spdlog::info("path {} ({}) reports wwid {}", p->id, p->transport->describe(), info.wwid);
        found_(p->id, p->uri, info.wwid, std::move(p->transport));
    });
}

void PathDiscovery::retry_later(const std::shared_ptr<Pending>& p, const std::string& why) {
    if (p->transport) {
        p->transport->close();
        p->transport.reset();
    }
    // The first failure is an error; repeats of a path that stays away are quieter.
    if (p->attempts++ == 0) {
        spdlog::error("path {} ({}): {}; trying again every {} ms", p->id, redact_iscsi_uri(p->uri),
                      why, retry_.count());
    } else {
        spdlog::debug("path {}: {}", p->id, why);
    }
    p->timer.expires_after(retry_);
    p->timer.async_wait([this, alive = alive_, p](boost::system::error_code ec) {
        if (ec || !*alive || p->cancelled) {
            return;
        }
        if (is_portal_only(p->uri)) {
            discover(p);
        } else {
            identify(p);
        }
    });
}

} // namespace mpiod
