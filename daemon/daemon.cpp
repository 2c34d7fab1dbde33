// Wiring: config -> LUs and paths -> NBD exports, control socket, signals, shutdown.
#include "daemon/daemon.hpp"

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <system_error>

#include <unistd.h>

#include <boost/asio/ip/address.hpp>
#include <spdlog/spdlog.h>

#include "daemon/event_loop.hpp"
#include "daemon/path_factory.hpp"
#include "daemon/scanned_paths.hpp"
#include "daemon/uevent_monitor.hpp"
#include "policies/policy_registry.hpp"

#include <systemd/sd-daemon.h>

namespace mpiod {

namespace {

// Longest a SIGTERM waits for in-flight I/O before flushing and exiting anyway.
constexpr Millis drain_limit{10'000};
// Longest start-up waits for every LU to export before telling systemd it is ready.
constexpr Millis startup_limit{15'000};
constexpr Millis hotplug_settle{250}; // quiet time after the last uevent before a rescan

boost::asio::ip::tcp::endpoint parse_endpoint(const std::string& text) {
    auto colon = text.rfind(':');
    auto host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    auto port = static_cast<unsigned short>(std::stoul(text.substr(colon + 1)));
    return {boost::asio::ip::make_address(host), port};
}

std::string message_of(const ControlResult<>& r) {
    return r ? std::string() : r.error().message;
}

} // namespace

Daemon::Daemon(DaemonConfig config)
    : config_(std::move(config)),
      signals_(io_, SIGTERM, SIGINT, SIGHUP),
      startup_timer_(io_),
      rescan_timer_(io_),
      drain_timer_(io_),
      watchdog_(io_.get_executor()),
      server_(io_.get_executor()) {}

Daemon::~Daemon() = default;

int Daemon::run() {
    try {
        build();
    } catch (const std::exception& e) {
        spdlog::critical("start-up failed: {}", e.what());
        return 1;
    }
    std::function<void(boost::system::error_code, int)> on_signal;
    on_signal = [this, &on_signal](boost::system::error_code ec, int sig) {
        if (ec) {
            return;
        }
        if (sig == SIGHUP) {
            if (auto error = reload(); !error.empty()) {
                spdlog::error("SIGHUP: {}", error);
            }
        } else {
            shutdown(sig == SIGTERM ? "SIGTERM" : "SIGINT", config_.exports.detach_on_stop);
        }
        if (!shutting_down_) {
            signals_.async_wait(on_signal);
        }
    };
    signals_.async_wait(on_signal);
    watchdog_.start();
    if (config_.busy_poll.count() > 0) {
        spdlog::info("event loop polls {} us after work before it sleeps",
                     config_.busy_poll.count());
    }
    run_event_loop(io_, config_.busy_poll); // re-read every turn: a reload may change it
    spdlog::info("mpiod stopped");
    return exit_code_;
}

void Daemon::build() {
    auto ex = io_.get_executor();
    kernel_exports_ = std::make_unique<KernelExports>(ex, server_, config_.exports);
    for (const auto& lc : config_.lus) {
        if (lc.path_ids.empty()) {
            continue; // settings for an LU that discovered SCSI paths may reach
        }
        auto lu = create_lu(lc);
        for (const auto& pc : config_.paths) {
            if (pc.wwid == lc.wwid) {
                add_path(*lu, lc, pc.id, pc.wwid, make_transport(ex, pc.uri));
            }
        }
    }
    // SCSI paths without a configured wwid: identified (and portals discovered) at run time.
    discovery_ = std::make_unique<PathDiscovery>(
        ex, make_transport, config_.defaults.checker_interval,
        [this](const std::string& id, const std::string&, const std::string& wwid,
               std::unique_ptr<Transport> transport) {
            on_path_identified(id, wwid, std::move(transport));
        });
    for (const auto& pc : config_.paths) {
        if (pc.wwid.empty()) {
            discovery_->add(pc.id, pc.uri);
        }
    }
    follow_hotplug();

    std::filesystem::create_directories(config_.exports.dir);
    links_ = std::make_unique<LuLinks>(config_.exports.dir);
    for (const auto& ep : config_.exports.tcp) {
        auto bound = server_.listen_tcp(parse_endpoint(ep));
        spdlog::info("NBD export on tcp {}:{}", bound.address().to_string(), bound.port());
    }

    control_ = std::make_unique<ControlServer>(io_.get_executor(), config_.control_socket, *this);
    control_->start();
    spdlog::info("control socket {}", config_.control_socket.string());

    startup_timer_.expires_after(startup_limit);
    startup_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || notified_ready_) {
            return;
        }
        for (const auto& lu : lus_) {
            if (!lu->ready()) {
                spdlog::error(
                    "lu {}: no path opened within {} s; it is exported as soon as one does",
                    lu->name(), startup_limit.count() / 1000);
            }
        }
        notified_ready_ = true;
        sd_notify(0, "READY=1\nSTATUS=started; some LUs wait for a path");
    });
    notify_ready_if_done();
}

std::shared_ptr<LogicalUnit> Daemon::create_lu(const LuConfig& lc) {
    auto lu = std::make_shared<LogicalUnit>(io_.get_executor(), lc.alias, lc.wwid, lc.settings,
                                            make_policy);
    spdlog::info("lu {} ({}): policy {}, io_timeout {} ms, no_path_retry {}, failback {}", lc.alias,
                 lc.wwid, lc.settings.policy, lc.settings.io_timeout.count(),
                 to_string(lc.settings.no_path_retry), to_string(lc.settings.failback));
    lus_.push_back(lu);
    lu->on_resize(
        [this, name = lc.alias](std::uint64_t size) { kernel_exports_->async_resize(name, size); });
    lu->when_ready([this, weak = std::weak_ptr<LogicalUnit>(lu)] {
        if (auto l = weak.lock(); l && !shutting_down_) {
            export_lu(l);
        }
    });
    return lu;
}

void Daemon::add_path(LogicalUnit& lu, const LuConfig& lc, const std::string& id,
                      const std::string& wwid, std::unique_ptr<Transport> transport) {
    PathSpec spec;
    spec.id = id;
    spec.wwid = wwid;
    spec.transport = std::move(transport);
    spec.weight = lc.weight_of(id);
    spec.throughput = lc.throughput_of(id);
    spec.standby = lc.is_standby(id);
    if (auto added = lu.add_path(std::move(spec)); !added) {
        throw std::runtime_error(added.error().message);
    }
}

void Daemon::on_path_identified(const std::string& id, const std::string& wwid,
                                std::unique_ptr<Transport> transport) {
    if (shutting_down_) {
        return;
    }
    std::shared_ptr<LogicalUnit> lu;
    for (const auto& l : lus_) {
        if (l->wwid() == wwid) {
            lu = l;
        }
    }
    LuConfig lc;
    if (auto it = std::find_if(config_.lus.begin(), config_.lus.end(),
                               [&](const LuConfig& c) { return c.wwid == wwid; });
        it != config_.lus.end()) {
        lc = *it;
    } else {
        lc.wwid = wwid;
        lc.settings = config_.defaults;
    }
    if (!lu) {
        if (!lc.alias_given) {
            lc.alias = bound_name(wwid); // mpatha, mpathb, ... kept in the bindings file
        }
        lu = create_lu(lc);
    }
    try {
        add_path(*lu, lc, id, wwid, std::move(transport));
        spdlog::info("lu {}: path {} joins by its wwid {}", lu->name(), id, wwid);
    } catch (const std::exception& e) {
        spdlog::error("lu {}: path {} not added: {}", lu->name(), id, e.what());
    }
}

std::string Daemon::bound_name(const std::string& wwid) {
    if (!bindings_) {
        bindings_ = std::make_unique<LuBindings>(config_.bindings_file);
    }
    std::set<std::string> taken;
    for (const auto& lc : config_.lus) {
        taken.insert(lc.alias);
    }
    for (const auto& lu : lus_) {
        taken.insert(lu->name());
    }
    return bindings_->name_for(wwid, taken);
}

std::filesystem::path Daemon::socket_of(const LogicalUnit& lu) const {
    return config_.exports.dir / (lu.name() + ".sock");
}

void Daemon::export_lu(const std::shared_ptr<LogicalUnit>& lu) {
    auto socket = socket_of(*lu);
    try {
        server_.listen_unix(socket, lu);
        server_.add_target(lu);
    } catch (const std::exception& e) {
        spdlog::error("lu {}: cannot export: {}", lu->name(), e.what());
        exit_code_ = 1;
        return;
    }
    lu->add_export("nbd+unix:///?socket=" + socket.string());
    links_->update(lu->name(), lu->wwid(), socket.string());
    auto info = lu->export_info();
    spdlog::info("lu {} exported on {} ({} bytes, block {})", lu->name(), socket.string(),
                 info.size_bytes, info.preferred_block);

    // ---- kernel block device: the LU counts as exported once it has one (or failed to) ----
    kernel_exports_->async_attach(lu, [this, lu](std::string error, std::string dev) {
        if (!error.empty()) {
            spdlog::error("lu {}: no kernel block device: {}", lu->name(), error);
            exit_code_ = 1;
        } else if (!dev.empty()) {
            lu->add_export(dev);
            links_->update(lu->name(), lu->wwid(), dev);
            spdlog::info("lu {} exported as {}", lu->name(), dev);
        }
        ++exported_;
        notify_ready_if_done();
    });
}

void Daemon::notify_ready_if_done() {
    if (notified_ready_ || exported_ < lus_.size()) {
        return;
    }
    notified_ready_ = true;
    startup_timer_.cancel();
    // Links a previous run left for LUs that are gone; not earlier, so that the links of
    // devices kept across a restart stay while they reattach.
    std::set<std::string> names;
    std::set<std::string> wwids;
    for (const auto& lu : lus_) {
        names.insert(lu->name());
        wwids.insert(lu->wwid());
    }
    links_->keep_only(names, wwids);
    sd_notifyf(0, "READY=1\nSTATUS=%zu LUs exported", exported_);
}

void Daemon::shutdown(const char* why, bool detach) {
    if (shutting_down_) {
        return;
    }
    shutting_down_ = true;
    discovery_->stop();
    uevents_.reset();
    rescan_timer_.cancel();
    spdlog::info("{}: draining in-flight I/O, then flushing and exiting{}", why,
                 detach ? "; kernel devices are detached" : "");
    sd_notify(0, "STOPPING=1");
    startup_timer_.cancel();
    for (const auto& lu : lus_) {
        server_.remove_target(lu->name()); // no new clients; connected ones are served on
        // Links go with the socket and FUSE file; a kept /dev/nbdX keeps its links for the
        // next mpiod.
        if (detach || kernel_exports_->device_of(lu->name()).empty()) {
            links_->remove(lu->name(), lu->wwid());
        }
    }
    // ---- kernel block devices go first: once detached, the kernel sends no more I/O. Kept
    // nbd devices go on sending until the sockets close in finish_shutdown(); what is sent
    // after that the kernel holds until the next mpiod reattaches. ----
    kernel_exports_->async_stop(detach, [this] {
        // Each connection (a kept /dev/nbdX's sockets included) closes at its first idle
        // moment: the kernel's next request then finds the socket shut and waits for the
        // next mpiod instead of being read here and never answered.
        server_.close_when_idle();
        drain_and_finish();
    });
}

void Daemon::drain_and_finish() {
    drains_left_ = lus_.size();
    drain_timer_.expires_after(drain_limit);
    drain_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec && drains_left_ > 0) {
            spdlog::warn("I/O still in flight after {} s; exiting anyway",
                         drain_limit.count() / 1000);
            drains_left_ = 0;
            finish_shutdown();
        }
    });
    if (drains_left_ == 0) {
        finish_shutdown();
        return;
    }
    for (const auto& lu : lus_) {
        lu->async_drain([this, lu] {
            if (!lu->ready()) {
                if (drains_left_ > 0 && --drains_left_ == 0) {
                    finish_shutdown();
                }
                return;
            }
            lu->flush_all([this, lu](IoResult r) {
                if (!r.ok()) {
                    spdlog::error("lu {}: final flush failed: {}", lu->name(), to_string(r.status));
                    exit_code_ = 1;
                }
                if (drains_left_ > 0 && --drains_left_ == 0) {
                    finish_shutdown();
                }
            });
        });
    }
}

void Daemon::finish_shutdown() {
    drain_timer_.cancel();
    watchdog_.stop();
    server_.stop();
    for (const auto& lu : lus_) {
        lu->stop();
    }
    if (control_) {
        control_->stop();
    }
    signals_.cancel();
    io_.stop();
}

// ---- ControlBackend ------------------------------------------------------------------

DaemonStatus Daemon::daemon_status() const {
    DaemonStatus s;
    s.version = MPIOD_VERSION;
    s.pid = static_cast<long>(getpid());
    s.started = started_;
    s.config_file = config_.source.string();
    return s;
}

std::vector<LuStatus> Daemon::lus() const {
    std::vector<LuStatus> out;
    out.reserve(lus_.size());
    for (const auto& lu : lus_) {
        out.push_back(lu->status());
    }
    return out;
}

LogicalUnit* Daemon::lu_of_path(const std::string& id) const {
    for (const auto& lu : lus_) {
        if (lu->has_path(id)) {
            return lu.get();
        }
    }
    return nullptr;
}

std::string Daemon::fail_path(const std::string& id) {
    auto* lu = lu_of_path(id);
    return lu == nullptr ? "no such path: " + id : message_of(lu->fail_path(id));
}

std::string Daemon::reinstate_path(const std::string& id) {
    auto* lu = lu_of_path(id);
    return lu == nullptr ? "no such path: " + id : message_of(lu->reinstate_path(id));
}

std::string Daemon::set_policy(const std::string& lu_name, const std::string& policy) {
    for (const auto& lu : lus_) {
        if (lu->name() == lu_name || lu->wwid() == lu_name) {
            if (!make_policy(policy)) {
                std::string valid;
                for (auto n : policy_names()) {
                    valid += (valid.empty() ? "" : ", ") + std::string(n);
                }
                return "unknown policy: " + policy + " (valid: " + valid + ")";
            }
            return message_of(lu->set_policy(policy));
        }
    }
    return "no such lu: " + lu_name;
}

void Daemon::request_shutdown(bool detach) {
    boost::asio::post(io_, [this, detach] {
        shutdown(detach ? "mpiod-ctl shutdown --detach" : "mpiod-ctl shutdown",
                 detach || config_.exports.detach_on_stop);
    });
}

std::string Daemon::reload() {
    if (shutting_down_) {
        return "the daemon is stopping";
    }
    DaemonConfig next;
    try {
        next = load_config(config_.source);
        add_scanned_paths(next);
    } catch (const ConfigError& e) {
        return std::string("configuration not reloaded: ") + e.what();
    }
    spdlog::info("reloading {}", config_.source.string());
    apply_config(std::move(next));
    return "";
}

void Daemon::apply_config(DaemonConfig next) {
    // ---- what only a restart changes: kept as it runs ----
    auto keep = [](const char* what, bool changed) {
        if (changed) {
            spdlog::warn("reload: {} changed; it takes effect at the next start", what);
        }
    };
    keep("export", next.exports.dir != config_.exports.dir ||
                       next.exports.tcp != config_.exports.tcp ||
                       next.exports.kind != config_.exports.kind ||
                       next.exports.fuse_dir != config_.exports.fuse_dir ||
                       next.exports.queues != config_.exports.queues);
    keep("control_socket", next.control_socket != config_.control_socket);
    keep("bindings_file", next.bindings_file != config_.bindings_file);
    next.exports = config_.exports;
    next.control_socket = config_.control_socket;
    next.bindings_file = config_.bindings_file;
    if (next.busy_poll != config_.busy_poll) {
        spdlog::info("reload: busy_poll_us {}", next.busy_poll.count());
    }
    if (next.log_level != config_.log_level) {
        spdlog::set_level(spdlog::level::from_str(next.log_level));
        spdlog::info("reload: log level {}", next.log_level);
    }

    auto find_path = [](const DaemonConfig& c, const std::string& id) -> const PathConfig* {
        for (const auto& p : c.paths) {
            if (p.id == id) {
                return &p;
            }
        }
        return nullptr;
    };
    auto same_path = [](const PathConfig& a, const PathConfig& b) {
        return a.uri == b.uri && a.wwid == b.wwid;
    };
    // ---- removed or changed paths go first (a changed one comes back below) ----
    for (const auto& old : config_.paths) {
        const auto* now = find_path(next, old.id);
        if (now != nullptr && same_path(*now, old)) {
            continue;
        }
        if (auto* lu = lu_of_path(old.id)) {
            if (auto removed = lu->remove_path(old.id); !removed) {
                spdlog::error("reload: {}", removed.error().message);
            }
        } else {
            discovery_->remove(old.id); // still being identified
        }
    }
    // ---- settings of LUs that stay ----
    for (const auto& lu : lus_) {
        for (const auto& lc : next.lus) {
            if (lc.wwid != lu->wwid()) {
                continue;
            }
            if (lc.alias_given && lc.alias != lu->name()) {
                spdlog::warn("reload: lu {}: alias {} takes effect at the next start", lu->name(),
                             lc.alias);
            }
            if (!(lc.settings == lu->settings())) {
                spdlog::info("reload: lu {}: policy {}, io_timeout {} ms, no_path_retry {}, "
                             "failback {}",
                             lu->name(), lc.settings.policy, lc.settings.io_timeout.count(),
                             to_string(lc.settings.no_path_retry), to_string(lc.settings.failback));
                lu->set_settings(lc.settings);
            }
        }
    }
    // ---- added or changed paths ----
    auto ex = io_.get_executor();
    for (const auto& pc : next.paths) {
        const auto* old = find_path(config_, pc.id);
        if (old != nullptr && same_path(*old, pc)) {
            continue;
        }
        if (pc.wwid.empty()) {
            discovery_->add(pc.id, pc.uri);
            continue;
        }
        const auto lc = std::find_if(next.lus.begin(), next.lus.end(),
                                     [&](const LuConfig& c) { return c.wwid == pc.wwid; });
        std::shared_ptr<LogicalUnit> lu;
        for (const auto& l : lus_) {
            if (l->wwid() == pc.wwid) {
                lu = l;
            }
        }
        if (!lu) {
            lu = create_lu(*lc);
        }
        try {
            add_path(*lu, *lc, pc.id, pc.wwid, make_transport(ex, pc.uri));
            spdlog::info("reload: lu {}: path {} added", lu->name(), pc.id);
        } catch (const std::exception& e) {
            spdlog::error("reload: lu {}: path {} not added: {}", lu->name(), pc.id, e.what());
        }
    }
    config_ = std::move(next);
    follow_hotplug();
    // ---- LUs left without a path ----
    for (const auto& lu : std::vector<std::shared_ptr<LogicalUnit>>(lus_)) {
        if (lu->path_count() == 0) {
            retire_lu(lu);
        }
    }
}

void Daemon::follow_hotplug() {
    if (!config_.scan.scsi_generic) {
        uevents_.reset();
        return;
    }
    if (uevents_) {
        return;
    }
    // A burst of uevents (a new HBA brings many devices) makes one rescan, shortly after the
    // last of them.
    uevents_ = std::make_unique<UeventMonitor>(
        io_.get_executor(), "scsi_generic", [this](const Uevent& e) {
            spdlog::debug("uevent: {} {}", e.action, e.devname.empty() ? e.devpath : e.devname);
            rescan_timer_.expires_after(hotplug_settle);
            rescan_timer_.async_wait([this](boost::system::error_code ec) {
                if (!ec) {
                    rescan_scsi_generic();
                }
            });
        });
    std::string why;
    if (!uevents_->start(why)) {
        spdlog::warn("scan: no hotplug ({}); new SCSI devices appear at the next reload", why);
        uevents_.reset();
    }
}

void Daemon::rescan_scsi_generic() {
    if (shutting_down_ || !config_.scan.scsi_generic) {
        return;
    }
    DaemonConfig next = config_;
    std::erase_if(next.paths, [](const PathConfig& p) { return p.scanned; });
    add_scanned_paths(next);
    auto scanned = [](const DaemonConfig& c) {
        std::vector<std::pair<std::string, std::string>> out;
        for (const auto& p : c.paths) {
            if (p.scanned) {
                out.emplace_back(p.id, p.uri);
            }
        }
        return out;
    };
    if (scanned(next) == scanned(config_)) {
        return;
    }
    spdlog::info("scan: the SCSI generic devices changed; applying");
    apply_config(std::move(next));
}

void Daemon::retire_lu(const std::shared_ptr<LogicalUnit>& lu) {
    spdlog::info("reload: lu {} has no path left; it stops once its I/O is done", lu->name());
    server_.remove_target(lu->name());
    links_->remove(lu->name(), lu->wwid());
    if (!kernel_exports_->device_of(lu->name()).empty()) {
        kernel_exports_->async_detach(lu->name(), [](std::string) {});
    }
    std::erase(lus_, lu);
    lu->async_drain([lu] { lu->stop(); });
}

std::string Daemon::resize(const std::string& lu_name) {
    for (const auto& lu : lus_) {
        if (lu->name() != lu_name && lu->wwid() != lu_name) {
            continue;
        }
        if (lu->rescanning()) {
            return "a rescan is running";
        }
        lu->async_rescan([lu](ControlResult<std::string> outcome) {
            if (!outcome) {
                spdlog::error("lu {}: resize: {}", lu->name(), outcome.error().message);
            } else {
                spdlog::info("lu {}: resize: {}", lu->name(), outcome.value());
            }
        });
        return "";
    }
    return "no such lu: " + lu_name;
}

std::string Daemon::detach(const std::string& lu_name) {
    for (const auto& lu : lus_) {
        if (lu->name() != lu_name && lu->wwid() != lu_name) {
            continue;
        }
        auto device = kernel_exports_->device_of(lu->name());
        kernel_exports_->async_detach(lu->name(), [this, lu, device](std::string error) {
            if (!error.empty()) {
                spdlog::error("lu {}: detach: {}", lu->name(), error);
                return;
            }
            lu->remove_export(device);
            links_->update(lu->name(), lu->wwid(), socket_of(*lu).string());
        });
        return "";
    }
    return "no such lu: " + lu_name;
}

} // namespace mpiod
