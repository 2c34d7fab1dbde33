// The probe as a chain of commands; each step parses its reply and sends the next command.
#include "transports/scsi/lu_probe.hpp"

#include <algorithm>
#include <memory>
#include <utility>

#include <boost/system/errc.hpp>
#include <fmt/format.h>

#include "transports/scsi/scsi_data_error.hpp"
#include "transports/scsi/scsi_disposition.hpp"

namespace mpiod::scsi {

namespace {

using boost::system::errc::make_error_code;
namespace errc = boost::system::errc;

constexpr std::uint16_t small_page = 255;
constexpr std::uint32_t rtpg_initial = 1024;

bool is_invalid_request(const ScsiReply& r) {
    return r.end == CommandEnd::completed && r.status == status::check_condition &&
           r.sense.key == sense_key::illegal_request;
}

std::string failure(const ScsiCommand& cmd, const ScsiReply& r) {
    Disposition d = classify(r);
    if (r.end != CommandEnd::completed) {
        return fmt::format("{}: {}{}{}", describe(cmd), d.reason,
                           r.transport_error.empty() ? "" : ": ", r.transport_error);
    }
    if (r.status == status::check_condition) {
        return fmt::format("{}: {} ({})", describe(cmd), to_string(r.sense), d.reason);
    }
    return fmt::format("{}: status 0x{:02x} ({})", describe(cmd), r.status, d.reason);
}

boost::system::error_code failure_code(const ScsiReply& r) {
    return make_error_code(r.end == CommandEnd::timed_out ? errc::timed_out : errc::io_error);
}

/// Sends a VPD/variable-length read and, when the reply says it is longer than asked for,
/// reads it again with the full length (up to `max`).
class LengthAwareRead {
public:
    using Length = std::optional<std::uint32_t> (*)(std::span<const std::uint8_t>);
    using Build = std::function<ScsiCommand(std::uint32_t)>;

    static void run(const ScsiRunner& runner, Build build, Length length, std::uint32_t first,
                    std::uint32_t max, std::function<void(ScsiCommand, ScsiReply)> done) {
        ScsiCommand cmd = build(first);
        runner(cmd, [runner, build = std::move(build), length, first, max, cmd,
                     done = std::move(done)](ScsiReply r) mutable {
            if (classify(r).action == Action::ok) {
                auto want = length(r.data);
                if (want && *want > r.data.size() && *want > first && first < max) {
                    run(runner, std::move(build), length, std::min(*want, max), max,
                        std::move(done));
                    return;
                }
            }
            done(std::move(cmd), std::move(r));
        });
    }
};

class Probe : public std::enable_shared_from_this<Probe> {
public:
    Probe(ScsiRunner run, LuProbeCompletion done) : run_(std::move(run)), done_(std::move(done)) {}

    void start() { test_unit_ready(); }

private:
    void fail(boost::system::error_code ec, std::string why) {
        if (done_) {
            std::move(done_)(ec, std::move(why), LuIdentity{});
        }
    }
    void fail(const ScsiCommand& cmd, const ScsiReply& r) {
        fail(failure_code(r), failure(cmd, r));
    }

    /// Runs `step` with the reply; a ScsiDataError from a parser ends the probe cleanly.
    template <class Step>
    void guarded(Step&& step) {
        try {
            step();
        } catch (const ScsiDataError& e) {
            fail(make_error_code(errc::bad_message), e.what());
        }
    }

    void send(ScsiCommand cmd, void (Probe::*next)(const ScsiCommand&, ScsiReply&)) {
        run_(cmd, [self = shared_from_this(), cmd, next](ScsiReply r) {
            self->guarded([&] { ((*self).*next)(cmd, r); });
        });
    }

    void vpd(std::uint8_t page, void (Probe::*next)(const ScsiCommand&, ScsiReply&)) {
        LengthAwareRead::run(
            run_,
            [page](std::uint32_t len) {
                return inquiry_command(true, page, static_cast<std::uint16_t>(len));
            },
            &vpd_page_length, small_page, 0xffff,
            [self = shared_from_this(), next](ScsiCommand cmd, ScsiReply r) {
                self->guarded([&] { ((*self).*next)(cmd, r); });
            });
    }

    bool has_page(std::uint8_t page) const {
        return std::find(id_.vpd_pages.begin(), id_.vpd_pages.end(), page) != id_.vpd_pages.end();
    }

    void test_unit_ready() { send(test_unit_ready_command(), &Probe::on_test_unit_ready); }

    void on_test_unit_ready(const ScsiCommand& cmd, ScsiReply& r) {
        Disposition d = classify(r);
        // A standby/unavailable ALUA path still answers INQUIRY and RTPG: open it and let
        // the access state say it carries no I/O.
        if (d.action != Action::ok && !d.refresh_access) {
            fail(cmd, r);
            return;
        }
        send(inquiry_command(false, 0, 96), &Probe::on_inquiry);
    }

    void on_inquiry(const ScsiCommand& cmd, ScsiReply& r) {
        if (classify(r).action != Action::ok) {
            fail(cmd, r);
            return;
        }
        id_.inquiry = parse_standard_inquiry(r.data);
        if (id_.inquiry.qualifier != 0) {
            fail(make_error_code(errc::no_such_device),
                 fmt::format("INQUIRY: no logical unit at this LUN (peripheral qualifier {})",
                             id_.inquiry.qualifier));
            return;
        }
        if (id_.inquiry.device_type != 0) {
            fail(make_error_code(errc::not_supported),
                 fmt::format("INQUIRY: peripheral device type 0x{:02x} is not a block device",
                             id_.inquiry.device_type));
            return;
        }
        vpd(0x00, &Probe::on_supported_pages);
    }

    void on_supported_pages(const ScsiCommand& cmd, ScsiReply& r) {
        if (classify(r).action == Action::ok) {
            id_.vpd_pages = parse_supported_vpd_pages(r.data);
        } else if (!is_invalid_request(r)) {
            fail(cmd, r);
            return;
        }
        // Without a page list (SPC-2 devices) still try 0x83: it is mandatory since SPC-3.
        if (id_.vpd_pages.empty() || has_page(0x83)) {
            vpd(0x83, &Probe::on_device_identification);
        } else {
            after_device_identification();
        }
    }

    void on_device_identification(const ScsiCommand& cmd, ScsiReply& r) {
        if (classify(r).action == Action::ok) {
            DeviceIdentification di = parse_device_identification(r.data);
            if (auto w = lu_wwid(di)) {
                id_.wwid = *w;
            }
            id_.target_port_group = target_port_group(di);
            id_.relative_target_port = relative_target_port(di);
        } else if (!is_invalid_request(r)) {
            fail(cmd, r);
            return;
        }
        after_device_identification();
    }

    void after_device_identification() {
        if (has_page(0x80)) {
            vpd(0x80, &Probe::on_serial);
        } else {
            after_serial();
        }
    }

    void on_serial(const ScsiCommand& cmd, ScsiReply& r) {
        if (classify(r).action == Action::ok) {
            id_.serial = parse_unit_serial_number(r.data);
        } else if (!is_invalid_request(r)) {
            fail(cmd, r);
            return;
        }
        after_serial();
    }

    void after_serial() {
        if (id_.wwid.empty() && !id_.serial.empty()) {
            id_.wwid = serial_wwid(id_.inquiry.vendor, id_.inquiry.product, id_.serial).value();
            id_.wwid_from_serial = true;
        }
        if (has_page(0xb0)) {
            vpd(0xb0, &Probe::on_block_limits);
        } else {
            after_block_limits();
        }
    }

    void on_block_limits(const ScsiCommand& cmd, ScsiReply& r) {
        if (classify(r).action == Action::ok) {
            id_.block_limits = parse_block_limits(r.data);
        } else if (!is_invalid_request(r)) {
            fail(cmd, r);
            return;
        }
        after_block_limits();
    }

    void after_block_limits() {
        if (has_page(0xb2)) {
            vpd(0xb2, &Probe::on_provisioning);
        } else {
            read_capacity();
        }
    }

    void on_provisioning(const ScsiCommand& cmd, ScsiReply& r) {
        if (classify(r).action == Action::ok) {
            id_.provisioning = parse_logical_block_provisioning(r.data);
        } else if (!is_invalid_request(r)) {
            fail(cmd, r);
            return;
        }
        read_capacity();
    }

    void read_capacity() { send(read_capacity16_command(), &Probe::on_read_capacity); }

    void on_read_capacity(const ScsiCommand& cmd, ScsiReply& r) {
        if (classify(r).action != Action::ok) {
            fail(cmd, r);
            return;
        }
        id_.capacity = parse_read_capacity16(r.data);
        id_.trim = choose_trim(id_.capacity, id_.block_limits, id_.provisioning);
        send(mode_sense6_command(), &Probe::on_mode_sense);
    }

    static ScsiCommand mode_sense6_command() {
        ScsiCommand cmd;
        cmd.cdb_length = 6;
        cmd.cdb[0] = 0x1a;
        cmd.cdb[1] = 0x08; // DBD: no block descriptors
        cmd.cdb[2] = 0x3f; // current values, all pages: only the header is used
        cmd.cdb[4] = 0xff;
        cmd.direction = DataDirection::from_device;
        cmd.transfer_length = 0xff;
        return cmd;
    }

    void on_mode_sense(const ScsiCommand& /*cmd*/, ScsiReply& r) {
        // Optional: without it the path is writable and FUA is emulated with a flush.
        if (classify(r).action == Action::ok && r.data.size() >= 4) {
            id_.write_protected = (r.data[2] & 0x80) != 0;
            id_.dpofua = (r.data[2] & 0x10) != 0;
        }
        if (id_.inquiry.tpgs == 0) {
            finish();
            return;
        }
        read_alua_state(run_, id_.target_port_group, id_.relative_target_port,
                        [self = shared_from_this()](std::optional<AluaState> s, std::string why) {
                            self->on_alua(std::move(s), std::move(why));
                        });
    }

    void on_alua(std::optional<AluaState> s, std::string why) {
        if (!s) {
            fail(make_error_code(errc::io_error), "ALUA: " + why);
            return;
        }
        id_.access = s->access;
        id_.access_detail = std::move(s->detail);
        id_.transition_timeout = s->transition_timeout;
        finish();
    }

    void finish() {
        if (done_) {
            std::move(done_)(boost::system::error_code{}, std::string{}, std::move(id_));
        }
    }

    ScsiRunner run_;
    LuProbeCompletion done_;
    LuIdentity id_;
};

} // namespace

void probe_lu(ScsiRunner run, LuProbeCompletion done) {
    std::make_shared<Probe>(std::move(run), std::move(done))->start();
}

void read_alua_state(ScsiRunner run, std::optional<std::uint16_t> tpg,
                     std::optional<std::uint16_t> relative_port, AluaCompletion done) {
    auto finish = [tpg, relative_port, done](ScsiCommand cmd, ScsiReply r) {
        if (classify(r).action != Action::ok) {
            done(std::nullopt, failure(cmd, r));
            return;
        }
        try {
            TargetPortGroups report = parse_report_target_port_groups(r.data);
            const TargetPortGroup* g = find_group(report, tpg, relative_port);
            if (g == nullptr) {
                done(std::nullopt,
                     fmt::format("no port group matches this path (tpg {}, relative port {})",
                                 tpg ? std::to_string(*tpg) : "unknown",
                                 relative_port ? std::to_string(*relative_port) : "unknown"));
                return;
            }
            AluaState s;
            s.access = path_access(g->state);
            s.detail = access_detail(*g);
            if (report.implicit_transition_seconds && *report.implicit_transition_seconds > 0) {
                s.transition_timeout = std::chrono::seconds(*report.implicit_transition_seconds);
            }
            done(std::move(s), {});
        } catch (const ScsiDataError& e) {
            done(std::nullopt, e.what());
        }
    };
    auto attempt = [run, finish](bool extended, auto&& on_refused) {
        LengthAwareRead::run(
            run,
            [extended](std::uint32_t len) {
                return report_target_port_groups_command(len, extended);
            },
            &rtpg_length, rtpg_initial, 0x10000,
            [finish, on_refused](ScsiCommand cmd, ScsiReply r) {
                if (is_invalid_request(r) && on_refused) {
                    on_refused();
                    return;
                }
                finish(std::move(cmd), std::move(r));
            });
    };
    // Extended header first (it carries the transition time); plain format if refused.
    attempt(true, std::function<void()>([attempt] { attempt(false, std::function<void()>{}); }));
}

} // namespace mpiod::scsi
