// Shared pieces of the NBD transport tests: an io_context driven from the test thread, a
// tally that counts how often each completion ran, request builders and data patterns.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>

#include "core/io_request.hpp"
#include "core/io_result.hpp"
#include "tests/support/nbdkit_process.hpp"
#include "transports/nbd/nbd_transport.hpp"

/// nbdkit is installed on the build machines; where it is not, say so instead of failing.
#define REQUIRE_NBDKIT()                                                                           \
    do {                                                                                           \
        if (!::mpiod::test::NbdkitProcess::available()) {                                          \
            WARN("nbdkit is not installed: test skipped");                                         \
            return;                                                                                \
        }                                                                                          \
    } while (false)

namespace mpiod::test {

inline constexpr auto test_deadline = std::chrono::seconds(10);

/// nbdkit's memory plugin: `size` of RAM disk, read-write.
NbdkitConfig memory_server(const std::string& size = "64M");
/// nbdkit's file plugin serving `image`.
NbdkitConfig file_server(const std::string& image);
/// `base` with `filters` in front (the first nearest the client) and extra arguments.
NbdkitConfig with_filters(NbdkitConfig base, std::vector<std::string> filters,
                          std::vector<std::string> args);

/// A directory under /tmp, removed with its contents at the end of the test.
class ScratchDir {
public:
    ScratchDir();
    ~ScratchDir();
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    const std::filesystem::path& path() const noexcept { return path_; }
    /// Creates (or truncates) a file of `bytes` zero bytes there and returns its path.
    std::string make_file(const std::string& name, std::uint64_t bytes) const;

private:
    std::filesystem::path path_;
};

/// How often each of a set of completions ran, and with what.
class IoTally {
public:
    explicit IoTally(std::size_t n) : calls_(n, 0), results_(n) {}
    IoCompletion completion(std::size_t i);

    std::size_t size() const noexcept { return calls_.size(); }
    std::size_t completed() const noexcept { return completed_; } // calls, duplicates included
    bool all_completed() const noexcept { return completed_ >= calls_.size(); }
    bool each_exactly_once() const;
    /// Number of completions whose (last) result had status `s`.
    std::size_t count(IoStatus s) const;
    const IoResult& result(std::size_t i) const { return results_.at(i); }

private:
    std::vector<int> calls_;
    std::vector<IoResult> results_;
    std::size_t completed_ = 0;
};

struct OpenOutcome {
    boost::system::error_code ec;
    TransportInfo info;
};

/// Runs an io_context from the test thread, waiting on the events a test asserts.
class TransportHarness {
public:
    boost::asio::io_context io;

    std::unique_ptr<NbdTransport> make(const std::string& uri, NbdTransportOptions opts = {});
    /// Drives the loop until `done` holds or `limit` passes; false on timeout.
    bool wait(const std::function<bool()>& done, std::chrono::milliseconds limit = test_deadline);
    /// Runs only what is ready now: lets a duplicate completion show up if there were one.
    void settle();
    /// async_open and wait for its completion (nullopt if it never came).
    std::optional<OpenOutcome> open(NbdTransport& t);
    /// One I/O, waited for (nullopt if it never completed).
    std::optional<IoResult> run(NbdTransport& t, IoRequest r);
};

/// make() + open(), failing the test (REQUIRE) if the open does not succeed.
std::unique_ptr<NbdTransport> open_or_fail(TransportHarness& h, const std::string& uri,
                                           NbdTransportOptions opts = {});

IoRequest read_request(std::uint64_t offset, std::uint32_t length);
IoRequest write_request(std::uint64_t offset, const std::vector<std::byte>& data);
IoRequest op_request(IoOp op, std::uint64_t offset = 0, std::uint32_t length = 0);

/// Deterministic bytes depending on `seed` and position.
std::vector<std::byte> pattern(std::size_t n, std::uint32_t seed);
/// The first `n` bytes of an IoBuffer, for comparing.
std::vector<std::byte> bytes_of(const IoBuffer& b, std::size_t n);

} // namespace mpiod::test
