// SgTransport: sg v3 asynchronous commands on one /dev/sgN descriptor.
#include "transports/sg/sg_transport.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <linux/fs.h>
#include <scsi/sg.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "transports/sg/sg_reply.hpp"

namespace mpiod {

namespace {

constexpr int min_sg_version = 30000; // the v3 interface (sg_io_hdr)
// sg allocates indirect-I/O buffers in scatter elements of 32 KiB (SG_SCATTER_SZ), at most
// sg_tablesize of them per command.
constexpr std::uint64_t sg_scatter_bytes = 32 * 1024;

std::string errno_text(int e) {
    return std::strerror(e);
}

int direction_of(scsi::DataDirection d) {
    switch (d) {
    case scsi::DataDirection::from_device:
        return SG_DXFER_FROM_DEV;
    case scsi::DataDirection::to_device:
        return SG_DXFER_TO_DEV;
    case scsi::DataDirection::none:
        break;
    }
    return SG_DXFER_NONE;
}

} // namespace

/// One command between execute() and its completion. Lives at a fixed address (held by
/// unique_ptr) because its sg_io_hdr points into it.
struct SgTransport::Command {
    std::uint64_t id = 0;
    scsi::ScsiCommand cmd;
    IoBuffer buffer;                   // the caller's data (READ/WRITE(16)), else null
    std::vector<std::uint8_t> data_in; // data-in of commands without a caller buffer
    std::array<std::uint8_t, 96> sense{};
    sg_io_hdr_t hdr{};
    scsi::ScsiReplyHandler done;
};

SgTransport::SgTransport(boost::asio::any_io_executor ex, std::string device,
                         SgTransportOptions opts)
    : ScsiPathTransport(ex, device, opts.open_timeout, opts.retry),
      device_(std::move(device)),
      opts_(opts),
      fd_(ex) {
    opts_.max_outstanding = std::clamp(opts_.max_outstanding, 1u, 16u);
}

SgTransport::~SgTransport() {
    close();
    *alive_ = false;
}

int open_sg_device(const std::string& device, std::string& why) {
    int fd = ::open(device.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        why = "cannot open " + device + ": " + errno_text(e);
        errno = e;
        return -1;
    }
    struct stat st {};
    int version = 0;
    if (::fstat(fd, &st) != 0) {
        int e = errno;
        why = "cannot stat " + device + ": " + errno_text(e);
        ::close(fd);
        errno = e;
        return -1;
    }
    if (S_ISBLK(st.st_mode)) {
        why = device + " is a block device; name its SCSI generic node (/dev/sgN, see "
                       "/sys/block/<disk>/device/scsi_generic/)";
    } else if (!S_ISCHR(st.st_mode) || ::ioctl(fd, SG_GET_VERSION_NUM, &version) != 0 ||
               version < min_sg_version) {
        why = device + " is not a SCSI generic (sg v3) device";
    } else {
        return fd;
    }
    ::close(fd);
    errno = ENOTSUP;
    return -1;
}

void SgTransport::connect(Connected connected) {
    auto answer = [this, &connected](boost::system::error_code ec, std::string why) {
        boost::asio::post(executor(),
                          [c = std::move(connected), ec, why]() mutable { c(ec, std::move(why)); });
    };
    std::string why;
    int fd = opts_.open_device ? opts_.open_device(device_, why) : open_sg_device(device_, why);
    if (fd < 0) {
        answer(boost::system::error_code(errno, boost::system::generic_category()), why);
        return;
    }
    // What one command may carry: the queue's transfer limit and sg's buffer limit.
    transfer_limit_ = UINT32_MAX;
    int max_bytes = 0;
    if (::ioctl(fd, BLKSECTGET, &max_bytes) == 0 && max_bytes > 0) {
        transfer_limit_ = static_cast<std::uint32_t>(max_bytes);
    }
    int table = 0;
    if (::ioctl(fd, SG_GET_SG_TABLESIZE, &table) == 0 && table > 0) {
        transfer_limit_ = static_cast<std::uint32_t>(std::min<std::uint64_t>(
            transfer_limit_, static_cast<std::uint64_t>(table) * sg_scatter_bytes));
    }
    boost::system::error_code ec;
    fd_.assign(fd, ec);
    if (ec) {
        ::close(fd);
        answer(ec, "cannot watch " + device_ + ": " + ec.message());
        return;
    }
    wait(Wait::wait_read);
    answer({}, {});
}

void SgTransport::disconnect() noexcept {
    ++generation_;
    waiting_read_ = false;
    waiting_write_ = false;
    if (fd_.is_open()) {
        boost::system::error_code ignored;
        fd_.close(ignored); // the kernel finishes (or aborts) what it has; our memory is free
    }
    fail_all("path closed");
}

void SgTransport::fail_all(const std::string& why) {
    std::vector<std::unique_ptr<Command>> failed;
    for (auto& [id, c] : in_flight_) {
        failed.push_back(std::move(c));
    }
    in_flight_.clear();
    for (auto& c : queued_) {
        failed.push_back(std::move(c));
    }
    queued_.clear();
    for (auto& c : failed) {
        boost::asio::post(executor(), [d = std::move(c->done), why]() mutable {
            scsi::ScsiReply r;
            r.end = scsi::CommandEnd::transport_failed;
            r.transport_error = why;
            d(std::move(r));
        });
    }
}

void SgTransport::execute(const scsi::ScsiCommand& cmd, IoBuffer buffer,
                          scsi::ScsiReplyHandler done) {
    auto c = std::make_unique<Command>();
    c->id = next_id_++;
    c->cmd = cmd;
    c->buffer = std::move(buffer);
    c->done = std::move(done);
    void* data = nullptr;
    if (c->buffer) {
        data = c->buffer.get();
    } else if (cmd.direction == scsi::DataDirection::from_device) {
        c->data_in.resize(cmd.transfer_length);
        data = c->data_in.data();
    } else if (cmd.direction == scsi::DataDirection::to_device) {
        data = c->cmd.parameter_data.data();
    }
    sg_io_hdr_t& h = c->hdr;
    h.interface_id = 'S';
    h.dxfer_direction = direction_of(cmd.direction);
    h.cmd_len = c->cmd.cdb_length;
    h.cmdp = c->cmd.cdb.data();
    h.mx_sb_len = static_cast<unsigned char>(c->sense.size());
    h.sbp = c->sense.data();
    h.dxfer_len = cmd.direction == scsi::DataDirection::none ? 0 : cmd.transfer_length;
    h.dxferp = h.dxfer_len == 0 ? nullptr : data;
    h.timeout = static_cast<unsigned>(
        std::clamp<std::int64_t>(opts_.command_timeout.count(), 1, UINT32_MAX - 1));
    h.usr_ptr = reinterpret_cast<void*>(static_cast<std::uintptr_t>(c->id));
    h.pack_id = static_cast<int>(c->id & 0x7fffffff);
    queued_.push_back(std::move(c));
    if (!fd_.is_open()) {
        fail_all("path closed");
        return;
    }
    pump();
}

void SgTransport::pump() {
    while (!queued_.empty() && in_flight_.size() < opts_.max_outstanding && fd_.is_open()) {
        Command& c = *queued_.front();
        ssize_t n = ::write(fd_.native_handle(), &c.hdr, sizeof c.hdr);
        if (n == static_cast<ssize_t>(sizeof c.hdr)) {
            in_flight_.emplace(c.id, std::move(queued_.front()));
            queued_.pop_front();
            continue;
        }
        int e = n < 0 ? errno : EIO;
        if (e == EINTR) {
            continue;
        }
        if (e == EAGAIN || e == EDOM) {
            // sg's own queue is full (someone else shares it): wait for room.
            wait(Wait::wait_write);
            break;
        }
        lost("write to " + device_ + " failed: " + errno_text(e));
        return;
    }
    if (!in_flight_.empty()) {
        wait(Wait::wait_read);
    }
}

void SgTransport::wait(Wait what) {
    const bool reading = what == Wait::wait_read;
    bool& waiting = reading ? waiting_read_ : waiting_write_;
    if (waiting || !fd_.is_open()) {
        return;
    }
    waiting = true;
    auto alive = alive_;
    std::uint64_t generation = generation_;
    fd_.async_wait(what, [this, alive, generation, reading](boost::system::error_code ec) {
        if (!*alive || generation != generation_) {
            return; // destroyed, or a wait on a descriptor closed since
        }
        (reading ? waiting_read_ : waiting_write_) = false;
        if (ec) {
            return;
        }
        if (reading) {
            drain_completions(); // completions to read
        } else {
            pump(); // room for queued commands
        }
    });
}

void SgTransport::drain_completions() {
    auto alive = alive_;
    const std::uint64_t generation = generation_;
    // Edge-triggered readiness: read until EAGAIN.
    while (*alive && generation == generation_ && fd_.is_open()) {
        sg_io_hdr_t h{};
        h.interface_id = 'S';
        ssize_t n = ::read(fd_.native_handle(), &h, sizeof h);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            break;
        }
        if (n != static_cast<ssize_t>(sizeof h)) {
            int e = n < 0 ? errno : EIO;
            lost("read from " + device_ + " failed: " + errno_text(e));
            return;
        }
        auto it = in_flight_.find(reinterpret_cast<std::uintptr_t>(h.usr_ptr));
        if (it == in_flight_.end()) {
            spdlog::warn("sg path {}: completion of an unknown command (pack id {})", device_,
                         h.pack_id);
            continue;
        }
        std::unique_ptr<Command> c = std::move(it->second);
        in_flight_.erase(it);
        sg::SgCompletion done{
            h.status, h.host_status, h.driver_status,
            std::span<const std::uint8_t>(c->sense.data(),
                                          std::min<std::size_t>(h.sb_len_wr, c->sense.size()))};
        scsi::ScsiReply r = sg::to_scsi_reply(done);
        if (r.end == scsi::CommandEnd::completed && !c->buffer &&
            c->cmd.direction == scsi::DataDirection::from_device) {
            std::size_t got = c->data_in.size();
            if (h.resid > 0) {
                got -= std::min<std::size_t>(got, static_cast<std::size_t>(h.resid));
            }
            c->data_in.resize(got);
            r.data = std::move(c->data_in);
        }
        c->done(std::move(r)); // may send more, close the path, or destroy this transport
    }
    if (*alive && generation == generation_ && fd_.is_open()) {
        pump();
        wait(Wait::wait_read);
    }
}

void SgTransport::lost(const std::string& why) {
    if (!connection_lost(why) && fd_.is_open()) {
        disconnect(); // not open or opening in the base's view: still drop everything
    }
}

} // namespace mpiod
