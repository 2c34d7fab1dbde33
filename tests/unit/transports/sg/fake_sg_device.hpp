// A stand-in for the kernel's sg driver on a SOCK_SEQPACKET socket pair, so SgTransport's
// data path runs on a host without SCSI devices: each write() of an sg_io_hdr arrives here
// as one message, and the completed header goes back as one message for the transport's
// read(). The transport and the fake share a process, so the header's pointers (CDB,
// data, sense) are used directly, as the kernel would through copy_from/to_user.
//
// The device answers like tgt (captured pages: identity, 64 MiB of 512-byte blocks) with
// an in-memory disk, and can be told to hold completions, to answer the next commands with
// a host byte or a sense, and to vanish.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include <scsi/sg.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

namespace mpiod::test {

class FakeSgDevice {
public:
    struct Injected {
        std::uint8_t opcode = 0; // which commands (0 = any)
        std::uint16_t host_status = 0;
        std::uint8_t status = 0;
        std::vector<std::uint8_t> sense;
    };

    explicit FakeSgDevice(boost::asio::io_context& io);
    ~FakeSgDevice();
    FakeSgDevice(const FakeSgDevice&) = delete;
    FakeSgDevice& operator=(const FakeSgDevice&) = delete;

    /// The transport's end, for SgTransportOptions::open_device (once per open).
    int take_transport_end(std::string& why);

    /// Completions wait until release() while holding.
    void hold(bool on) { holding_ = on; }
    /// Sends every completion held so far, oldest last (out of order on purpose); holding
    /// goes on for the commands that follow.
    void release();
    /// The next command with this opcode (0: any) gets this answer instead.
    void inject(Injected answer) { injected_.push_back(std::move(answer)); }
    /// The device disappears: the socket closes with commands outstanding.
    void vanish();

    std::size_t received() const noexcept { return received_; }
    std::size_t outstanding() const noexcept { return held_.size(); }
    std::size_t max_outstanding() const noexcept { return max_outstanding_; }
    std::size_t count(std::uint8_t opcode) const;
    const std::vector<std::uint8_t>& disk() const noexcept { return disk_; }

private:
    void read_next();
    void execute(sg_io_hdr_t& h);
    void answer(const sg_io_hdr_t& h);
    void data_in(sg_io_hdr_t& h, const std::vector<std::uint8_t>& bytes);

    boost::asio::posix::stream_descriptor sock_;
    int transport_end_ = -1;
    std::vector<std::uint8_t> disk_;
    std::deque<sg_io_hdr_t> held_;
    std::deque<Injected> injected_;
    std::vector<std::uint8_t> opcodes_;
    bool holding_ = false;
    std::size_t received_ = 0;
    std::size_t max_outstanding_ = 0;
};

} // namespace mpiod::test
