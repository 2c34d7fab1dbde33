// FakeSgDevice: the sg driver's side of write()/read(), answering like tgt.
#include "tests/unit/transports/sg/fake_sg_device.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include <sys/socket.h>
#include <unistd.h>

#include "tests/unit/transports/scsi/page_fixture.hpp"
#include "tests/unit/transports/sg/fixed_sense.hpp"

namespace mpiod::test {

namespace {

constexpr std::size_t disk_bytes = 131072 * 512; // tgt-read-capacity16.bin: 131072 x 512

std::uint64_t be(const unsigned char* p, int bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) {
        v = (v << 8) | p[i];
    }
    return v;
}

void set_sense(sg_io_hdr_t& h, const std::vector<std::uint8_t>& sense) {
    std::size_t n = std::min<std::size_t>(sense.size(), h.mx_sb_len);
    std::memcpy(h.sbp, sense.data(), n);
    h.sb_len_wr = static_cast<unsigned char>(n);
    h.status = 0x02;
    h.driver_status = 0x08; // DRIVER_SENSE
}

} // namespace

FakeSgDevice::FakeSgDevice(boost::asio::io_context& io) : sock_(io), disk_(disk_bytes, 0) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
        throw std::runtime_error(std::string("socketpair: ") + std::strerror(errno));
    }
    sock_.assign(fds[0]);
    transport_end_ = fds[1];
    read_next();
}

FakeSgDevice::~FakeSgDevice() {
    if (transport_end_ >= 0) {
        ::close(transport_end_);
    }
}

int FakeSgDevice::take_transport_end(std::string& why) {
    int fd = transport_end_;
    transport_end_ = -1;
    if (fd < 0) {
        why = "the fake device was opened already";
        errno = EBUSY;
    }
    return fd;
}

std::size_t FakeSgDevice::count(std::uint8_t opcode) const {
    return static_cast<std::size_t>(std::count(opcodes_.begin(), opcodes_.end(), opcode));
}

void FakeSgDevice::read_next() {
    sock_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                     [this](boost::system::error_code ec) {
                         if (ec) {
                             return;
                         }
                         for (;;) {
                             sg_io_hdr_t h{};
                             ssize_t n = ::recv(sock_.native_handle(), &h, sizeof h, MSG_DONTWAIT);
                             if (n == static_cast<ssize_t>(sizeof h)) {
                                 execute(h);
                                 continue;
                             }
                             if (n < 0 && errno == EAGAIN) {
                                 read_next();
                             }
                             return; // EOF: the transport closed its end
                         }
                     });
}

void FakeSgDevice::data_in(sg_io_hdr_t& h, const std::vector<std::uint8_t>& bytes) {
    std::size_t n = std::min<std::size_t>(bytes.size(), h.dxfer_len);
    std::memcpy(h.dxferp, bytes.data(), n);
    h.resid = static_cast<int>(h.dxfer_len - n);
}

void FakeSgDevice::execute(sg_io_hdr_t& h) {
    ++received_;
    const unsigned char* cdb = h.cmdp;
    opcodes_.push_back(cdb[0]);
    h.status = 0;
    h.host_status = 0;
    h.driver_status = 0;
    h.sb_len_wr = 0;
    h.resid = 0;
    if (!injected_.empty() &&
        (injected_.front().opcode == 0 || injected_.front().opcode == cdb[0])) {
        Injected a = injected_.front();
        injected_.pop_front();
        h.host_status = a.host_status;
        h.status = a.status;
        if (!a.sense.empty()) {
            set_sense(h, a.sense);
        }
    } else {
        switch (cdb[0]) {
        case 0x00: // TEST UNIT READY
        case 0x91: // SYNCHRONIZE CACHE(16)
            break;
        case 0x12: { // INQUIRY
            static const char* const pages[] = {"tgt-vpd-00.bin", "tgt-vpd-80.bin",
                                                "tgt-vpd-83.bin", "tgt-vpd-b0.bin",
                                                "tgt-vpd-b2.bin"};
            static const std::uint8_t codes[] = {0x00, 0x80, 0x83, 0xb0, 0xb2};
            if ((cdb[1] & 1) == 0) {
                data_in(h, captured_page("tgt-std-inquiry.bin"));
                break;
            }
            auto* at = std::find(std::begin(codes), std::end(codes), cdb[2]);
            if (at == std::end(codes)) {
                set_sense(h, fixed_sense(0x05, 0x24, 0x00));
                break;
            }
            data_in(h, captured_page(pages[at - std::begin(codes)]));
            break;
        }
        case 0x9e: // READ CAPACITY(16)
            data_in(h, captured_page("tgt-read-capacity16.bin"));
            break;
        case 0x1a: // MODE SENSE(6): header only, DPOFUA
            data_in(h, {3, 0, 0x10, 0});
            break;
        case 0x88:   // READ(16)
        case 0x8a: { // WRITE(16)
            std::uint64_t offset = be(cdb + 2, 8) * 512;
            std::uint64_t bytes = be(cdb + 10, 4) * 512;
            if (offset + bytes > disk_.size() || bytes != h.dxfer_len) {
                set_sense(h, fixed_sense(0x05, 0x21, 0x00)); // LBA out of range
                break;
            }
            auto* data = static_cast<std::uint8_t*>(h.dxferp);
            if (cdb[0] == 0x88) {
                std::memcpy(data, disk_.data() + offset, bytes);
            } else {
                std::memcpy(disk_.data() + offset, data, bytes);
            }
            break;
        }
        default:
            set_sense(h, fixed_sense(0x05, 0x20, 0x00)); // invalid command operation code
            break;
        }
    }
    if (holding_) {
        held_.push_back(h);
        max_outstanding_ = std::max(max_outstanding_, held_.size());
        return;
    }
    answer(h);
}

void FakeSgDevice::answer(const sg_io_hdr_t& h) {
    if (sock_.is_open()) {
        ::send(sock_.native_handle(), &h, sizeof h, MSG_NOSIGNAL);
    }
}

void FakeSgDevice::release() {
    while (!held_.empty()) {
        answer(held_.back());
        held_.pop_back();
    }
}

void FakeSgDevice::vanish() {
    held_.clear();
    boost::system::error_code ignored;
    sock_.close(ignored);
}

} // namespace mpiod::test
