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
#include "exports/metrics/metrics_text.hpp"
#include "policies/policy_registry.hpp"

#include <systemd/sd-daemon.h>

namespace mpiod {

namespace {

// Longest start-up waits for every LU to export before telling systemd it is ready.
constexpr Millis startup_limit{15'000};

boost::asio::ip::tcp::endpoint parse_endpoint(const std::string& text) {
    auto colon = text.rfind(':');
    auto host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    auto port = static_cast<unsigned short>(std::stoul(text.substr(colon + 1)));
    return {boost::asio::ip::make_address(host), port};
}

} // namespace

Daemon::Daemon(DaemonConfig config)
    : config_(std::move(config)),
      signals_(io_, SIGTERM, SIGINT, SIGHUP),
      startup_timer_(io_),
      hotplug_(io_.get_executor(), [this] { rescan_scsi_generic(); }),
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
            if (auto reloaded = reload(); !reloaded) {
                spdlog::error("SIGHUP: {}", reloaded.error().message);
            }
        } else {
            shutdown(sig == SIGTERM ? "SIGTERM" : "SIGINT", config_.exports.detach_on_stop);
        }
        if (!stopping()) {
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
            if (pc.wwid != lc.wwid) {
                continue;
            }
            if (auto added = add_path(*lu, lc, pc); !added) {
                throw std::runtime_error(added.error().message); // start-up fails
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
    hotplug_.follow(config_.scan.scsi_generic);

    std::filesystem::create_directories(config_.exports.dir);
    links_ = std::make_unique<LuLinks>(config_.exports.dir);
    shutdown_ = std::make_unique<ShutdownSequence>(
        ex, ShutdownSequence::Parts{server_, *kernel_exports_, *links_, lus_});
    for (const auto& ep : config_.exports.tcp) {
        auto bound = server_.listen_tcp(parse_endpoint(ep));
        spdlog::info("NBD export on tcp {}:{}", bound.address().to_string(), bound.port());
    }

    control_ = std::make_unique<ControlServer>(io_.get_executor(), config_.control_socket, *this);
    control_->start();
    spdlog::info("control socket {}", config_.control_socket.string());
    start_metrics();

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
    lus_.add(lu);
    lu->on_resize(
        [this, name = lc.alias](std::uint64_t size) { kernel_exports_->async_resize(name, size); });
    lu->when_ready([this, weak = std::weak_ptr<LogicalUnit>(lu)] {
        if (auto l = weak.lock(); l && !stopping()) {
            export_lu(l);
        }
    });
    return lu;
}

ControlResult<> Daemon::add_path(LogicalUnit& lu, const LuConfig& lc, const PathConfig& pc) {
    std::unique_ptr<Transport> transport;
    try {
        transport = make_transport(io_.get_executor(), pc.uri);
    } catch (const std::exception& e) { // an unknown scheme, a URI the transport refuses
        return ControlError::invalid(e.what());
    }
    return add_path(lu, lc, pc.id, pc.wwid, std::move(transport));
}

ControlResult<> Daemon::add_path(LogicalUnit& lu, const LuConfig& lc, const std::string& id,
                                 const std::string& wwid, std::unique_ptr<Transport> transport) {
    PathSpec spec;
    spec.id = id;
    spec.wwid = wwid;
    spec.transport = std::move(transport);
    spec.weight = lc.weight_of(id);
    spec.throughput = lc.throughput_of(id);
    spec.standby = lc.is_standby(id);
    return lu.add_path(std::move(spec));
}

void Daemon::on_path_identified(const std::string& id, const std::string& wwid,
                                std::unique_ptr<Transport> transport) {
    if (stopping()) {
        return;
    }
    auto lu = lus_.by_wwid(wwid);
    auto lc = lu_config_for(config_, wwid);
    if (!lu) {
        if (!lc.alias_given) {
            lc.alias = bound_name(wwid); // mpatha, mpathb, ... kept in the bindings file
        }
        lu = create_lu(lc);
    }
    if (auto added = add_path(*lu, lc, id, wwid, std::move(transport)); added) {
        spdlog::info("lu {}: path {} joins by its wwid {}", lu->name(), id, wwid);
    } else {
        spdlog::error("lu {}: path {} not added: {}", lu->name(), id, added.error().message);
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
    kernel_exports_->async_attach(lu, [this, lu](ControlResult<std::string> dev) {
        if (!dev) {
            spdlog::error("lu {}: no kernel block device: {}", lu->name(), dev.error().message);
            exit_code_ = 1;
        } else if (!dev.value().empty()) {
            lu->add_export(dev.value());
            links_->update(lu->name(), lu->wwid(), dev.value());
            spdlog::info("lu {} exported as {}", lu->name(), dev.value());
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

void Daemon::start_metrics() {
    if (config_.metrics.empty()) {
        return;
    }
    metrics_ = std::make_unique<MetricsHttpServer>(
        io_.get_executor(), [this] { return render_metrics(lus(), MPIOD_VERSION); });
    if (metrics_on_unix_socket(config_.metrics)) {
        metrics_->listen_unix(config_.metrics);
    } else {
        metrics_->listen_tcp(parse_endpoint(config_.metrics));
    }
}

void Daemon::shutdown(const char* why, bool detach) {
    if (stopping()) {
        return;
    }
    // The daemon's own sources of new work stop here; the sequence does the rest.
    discovery_->stop();
    hotplug_.stop();
    startup_timer_.cancel();
    spdlog::info("{}: draining in-flight I/O, then flushing and exiting{}", why,
                 detach ? "; kernel devices are detached" : "");
    sd_notify(0, "STOPPING=1");
    shutdown_->start(detach, [this](bool flushed) {
        if (!flushed) {
            exit_code_ = 1;
        }
        watchdog_.stop();
        if (control_) {
            control_->stop();
        }
        if (metrics_) {
            metrics_->stop();
        }
        signals_.cancel();
        io_.stop();
    });
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

ControlResult<> Daemon::fail_path(const std::string& id) {
    auto lu = lus_.path_owner(id);
    return lu ? lu.value()->fail_path(id) : lu.error();
}

ControlResult<> Daemon::reinstate_path(const std::string& id) {
    auto lu = lus_.path_owner(id);
    return lu ? lu.value()->reinstate_path(id) : lu.error();
}

ControlResult<> Daemon::set_policy(const std::string& lu_name, const std::string& policy) {
    auto lu = lus_.lookup(lu_name);
    if (!lu) {
        return lu.error();
    }
    if (!make_policy(policy)) {
        std::string valid;
        for (auto n : policy_names()) {
            valid += (valid.empty() ? "" : ", ") + std::string(n);
        }
        return ControlError::invalid("unknown policy: " + policy + " (valid: " + valid + ")");
    }
    return lu.value()->set_policy(policy);
}

void Daemon::request_shutdown(bool detach) {
    boost::asio::post(io_, [this, detach] {
        shutdown(detach ? "mpiod-ctl shutdown --detach" : "mpiod-ctl shutdown",
                 detach || config_.exports.detach_on_stop);
    });
}

ControlResult<> Daemon::reload() {
    if (stopping()) {
        return ControlError::busy("the daemon is stopping");
    }
    DaemonConfig next;
    try {
        next = load_config(config_.source);
        add_scanned_paths(next);
    } catch (const ConfigError& e) { // the loader's one way to fail
        return ControlError::invalid(std::string("configuration not reloaded: ") + e.what());
    }
    spdlog::info("reloading {}", config_.source.string());
    apply_config(std::move(next));
    return success();
}

DaemonConfig Daemon::running_config() const {
    DaemonConfig running = config_;
    running.lus.clear();
    for (const auto& lu : lus_) {
        LuConfig lc;
        lc.wwid = lu->wwid();
        lc.alias = lu->name();
        lc.settings = lu->settings();
        running.lus.push_back(std::move(lc));
    }
    return running;
}

void Daemon::apply_config(DaemonConfig next) {
    const auto diff = diff_config(running_config(), next);
    // ---- what only a restart changes: kept as it runs ----
    for (const auto& what : diff.restart_only) {
        spdlog::warn("reload: {} changed; it takes effect at the next start", what);
    }
    next.exports = config_.exports;
    next.control_socket = config_.control_socket;
    next.metrics = config_.metrics;
    next.bindings_file = config_.bindings_file;
    if (diff.busy_poll) {
        spdlog::info("reload: busy_poll_us {}", diff.busy_poll->count());
    }
    if (diff.log_level) {
        spdlog::set_level(spdlog::level::from_str(*diff.log_level));
        spdlog::info("reload: log level {}", *diff.log_level);
    }
    // ---- removed or changed paths go first (a changed one comes back below) ----
    for (const auto& id : diff.removed_paths) {
        if (auto* lu = lus_.lu_of_path(id)) {
            if (auto removed = lu->remove_path(id); !removed) {
                spdlog::error("reload: {}", removed.error().message);
            }
        } else {
            discovery_->remove(id); // still being identified
        }
    }
    // ---- LUs that stay ----
    for (const auto& renamed : diff.renamed_lus) {
        if (auto lu = lus_.by_wwid(renamed.wwid)) {
            spdlog::warn("reload: lu {}: alias {} takes effect at the next start", lu->name(),
                         renamed.alias);
        }
    }
    for (const auto& changed : diff.changed_lus) {
        if (auto lu = lus_.by_wwid(changed.wwid)) {
            const auto& s = changed.settings;
            spdlog::info("reload: lu {}: policy {}, io_timeout {} ms, no_path_retry {}, "
                         "failback {}",
                         lu->name(), s.policy, s.io_timeout.count(), to_string(s.no_path_retry),
                         to_string(s.failback));
            lu->set_settings(s);
        }
    }
    // ---- added or changed paths ----
    for (const auto& added : diff.added_paths) {
        start_path(added);
    }
    config_ = std::move(next);
    hotplug_.follow(config_.scan.scsi_generic);
    // ---- LUs left without a path ----
    for (const auto& lu : lus_.snapshot()) {
        if (lu->path_count() == 0) {
            retire_lu(lu);
        }
    }
}

void Daemon::start_path(const AddedPath& added) {
    const auto& pc = added.path;
    if (!added.lu) {
        discovery_->add(pc.id, pc.uri); // identified at run time
        return;
    }
    auto lu = lus_.by_wwid(pc.wwid);
    if (!lu) {
        lu = create_lu(*added.lu);
    }
    if (auto joined = add_path(*lu, *added.lu, pc); joined) {
        spdlog::info("reload: lu {}: path {} added", lu->name(), pc.id);
    } else {
        spdlog::error("reload: lu {}: path {} not added: {}", lu->name(), pc.id,
                      joined.error().message);
    }
}

void Daemon::rescan_scsi_generic() {
    if (stopping() || !config_.scan.scsi_generic) {
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
        kernel_exports_->async_detach(lu->name(), [](const ControlResult<>&) {});
    }
    lus_.remove(lu);
    lu->async_drain([lu] { lu->stop(); });
}

ControlResult<> Daemon::resize(const std::string& lu_name) {
    auto found = lus_.lookup(lu_name);
    if (!found) {
        return found.error();
    }
    auto lu = found.value();
    if (lu->rescanning()) {
        return ControlError::busy("a rescan is running");
    }
    lu->async_rescan([lu](ControlResult<std::string> outcome) {
        if (!outcome) {
            spdlog::error("lu {}: resize: {}", lu->name(), outcome.error().message);
        } else {
            spdlog::info("lu {}: resize: {}", lu->name(), outcome.value());
        }
    });
    return success();
}

ControlResult<> Daemon::detach(const std::string& lu_name) {
    auto found = lus_.lookup(lu_name);
    if (!found) {
        return found.error();
    }
    auto lu = found.value();
    auto device = kernel_exports_->device_of(lu->name());
    kernel_exports_->async_detach(lu->name(), [this, lu, device](ControlResult<> detached) {
        if (!detached) {
            spdlog::error("lu {}: detach: {}", lu->name(), detached.error().message);
            return;
        }
        lu->remove_export(device);
        links_->update(lu->name(), lu->wwid(), socket_of(*lu).string());
    });
    return success();
}

} // namespace mpiod
