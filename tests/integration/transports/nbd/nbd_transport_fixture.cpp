// Helpers shared by the NBD transport tests.
#include "tests/integration/transports/nbd/nbd_transport_fixture.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "tests/support/run_until.hpp"

namespace mpiod::test {

NbdkitConfig memory_server(const std::string& size) {
    NbdkitConfig c;
    c.plugin = "memory";
    c.args = {"size=" + size};
    return c;
}

NbdkitConfig file_server(const std::string& image) {
    NbdkitConfig c;
    c.plugin = "file";
    c.args = {image};
    return c;
}

NbdkitConfig with_filters(NbdkitConfig base, std::vector<std::string> filters,
                          std::vector<std::string> args) {
    base.filters = std::move(filters);
    base.args.insert(base.args.end(), args.begin(), args.end());
    return base;
}

ScratchDir::ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mpiod-transport-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
        throw std::system_error(errno, std::generic_category(), "mkdtemp");
    }
    path_ = tmpl;
}

ScratchDir::~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

std::string ScratchDir::make_file(const std::string& name, std::uint64_t bytes) const {
    auto p = path_ / name;
    { std::ofstream create(p, std::ios::binary | std::ios::trunc); }
    std::filesystem::resize_file(p, bytes);
    return p.string();
}

IoCompletion IoTally::completion(std::size_t i) {
    return [this, i](IoResult r) {
        ++calls_.at(i);
        results_.at(i) = r;
        ++completed_;
    };
}

bool IoTally::each_exactly_once() const {
    return std::all_of(calls_.begin(), calls_.end(), [](int c) { return c == 1; });
}

std::size_t IoTally::count(IoStatus s) const {
    std::size_t n = 0;
    for (std::size_t i = 0; i < calls_.size(); ++i) {
        if (calls_[i] > 0 && results_[i].status == s) {
            ++n;
        }
    }
    return n;
}

std::unique_ptr<NbdTransport> TransportHarness::make(const std::string& uri,
                                                     NbdTransportOptions opts) {
    return std::make_unique<NbdTransport>(io.get_executor(), uri, opts);
}

bool TransportHarness::wait(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    return run_until(io, done, limit);
}

void TransportHarness::settle() {
    io.restart();
    io.poll();
}

std::optional<OpenOutcome> TransportHarness::open(NbdTransport& t) {
    std::optional<OpenOutcome> out;
    t.async_open([&out](boost::system::error_code ec, TransportInfo info) {
        out = OpenOutcome{ec, std::move(info)};
    });
    wait([&] { return out.has_value(); });
    return out;
}

std::optional<IoResult> TransportHarness::run(NbdTransport& t, IoRequest r) {
    std::optional<IoResult> out;
    t.submit(std::move(r), [&out](IoResult res) { out = res; });
    wait([&] { return out.has_value(); });
    return out;
}

IoRequest read_request(std::uint64_t offset, std::uint32_t length) {
    IoRequest r;
    r.op = IoOp::read;
    r.offset = offset;
    r.length = length;
    r.data = make_io_buffer(length);
    return r;
}

IoRequest write_request(std::uint64_t offset, const std::vector<std::byte>& data) {
    IoRequest r;
    r.op = IoOp::write;
    r.offset = offset;
    r.length = static_cast<std::uint32_t>(data.size());
    r.data = make_io_buffer(data.size());
    std::memcpy(r.data.get(), data.data(), data.size());
    return r;
}

IoRequest op_request(IoOp op, std::uint64_t offset, std::uint32_t length) {
    IoRequest r;
    r.op = op;
    r.offset = offset;
    r.length = length;
    return r;
}

std::vector<std::byte> pattern(std::size_t n, std::uint32_t seed) {
    std::vector<std::byte> v(n);
    std::uint32_t x = seed * 2654435761u + 1;
    for (std::size_t i = 0; i < n; ++i) {
        x = x * 1664525u + 1013904223u; // LCG: cheap and position dependent
        v[i] = static_cast<std::byte>(x >> 24);
    }
    return v;
}

std::unique_ptr<NbdTransport> open_or_fail(TransportHarness& h, const std::string& uri,
                                           NbdTransportOptions opts) {
    auto t = h.make(uri, opts);
    auto out = h.open(*t);
    REQUIRE(out);
    REQUIRE_FALSE(out->ec);
    return t;
}

std::vector<std::byte> bytes_of(const IoBuffer& b, std::size_t n) {
    return std::vector<std::byte>(b.get(), b.get() + n);
}

} // namespace mpiod::test
