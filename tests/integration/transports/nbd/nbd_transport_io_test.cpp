// I/O through an NBD path against real nbdkit servers: data integrity, many requests in
// flight, flush/FUA/trim/zero, and how the server's errors are classified.
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/integration/transports/nbd/nbd_transport_fixture.hpp"

using namespace mpiod;
using namespace mpiod::test;

TEST_CASE("data written is read back identically at sizes from 512 bytes to 1 MiB", "[nbd][io]") {
    REQUIRE_NBDKIT();
    NbdkitProcess server(memory_server("64M"));
    TransportHarness h;
    auto t = open_or_fail(h, server.uri());

    std::uint64_t offset = 0;
    std::uint32_t seed = 1;
    for (std::uint32_t size : {512u, 4096u, 65536u + 512u, 1u << 20}) {
        INFO("size " << size);
        auto data = pattern(size, seed++);
        auto w = h.run(*t, write_request(offset, data));
        REQUIRE(w);
        CHECK(w->ok());
        auto rd = read_request(offset, size);
        auto buf = rd.data;
        auto r = h.run(*t, std::move(rd));
        REQUIRE(r);
        CHECK(r->ok());
        CHECK(bytes_of(buf, size) == data);
        offset += size + 4096;
    }
}

TEST_CASE("128 requests in flight at once all complete successfully, each exactly once",
          "[nbd][io]") {
    REQUIRE_NBDKIT();
    NbdkitProcess server(memory_server("64M"));
    TransportHarness h;
    auto t = open_or_fail(h, server.uri());

    constexpr std::size_t n = 128;
    std::vector<std::vector<std::byte>> data;
    IoTally writes(n);
    for (std::size_t i = 0; i < n; ++i) {
        data.push_back(pattern(4096, static_cast<std::uint32_t>(i)));
        t->submit(write_request(i * 4096, data.back()), writes.completion(i));
    }
    CHECK(t->in_flight() == n); // all handed to libnbd, none waiting in the transport
    CHECK(t->queued() == 0);
    CHECK(writes.completed() == 0); // never delivered from inside submit
    REQUIRE(h.wait([&] { return writes.all_completed(); }));

    IoTally reads(n);
    std::vector<IoBuffer> buffers;
    for (std::size_t i = 0; i < n; ++i) {
        auto rd = read_request(i * 4096, 4096);
        buffers.push_back(rd.data);
        t->submit(std::move(rd), reads.completion(i));
    }
    CHECK(t->in_flight() == n);
    REQUIRE(h.wait([&] { return reads.all_completed(); }));
    h.settle();

    CHECK(writes.each_exactly_once());
    CHECK(writes.count(IoStatus::ok) == n);
    CHECK(reads.each_exactly_once());
    CHECK(reads.count(IoStatus::ok) == n);
    for (std::size_t i = 0; i < n; ++i) {
        INFO("request " << i);
        CHECK(bytes_of(buffers[i], 4096) == data[i]);
    }
    CHECK(t->in_flight() == 0);
}

TEST_CASE("requests beyond max_in_flight wait in the transport and all complete", "[nbd][io]") {
    REQUIRE_NBDKIT();
    NbdkitProcess server(memory_server("64M"));
    TransportHarness h;
    auto t = open_or_fail(h, server.uri(), NbdTransportOptions{.max_in_flight = 4});

    constexpr std::size_t n = 64;
    std::vector<std::vector<std::byte>> data;
    IoTally writes(n);
    for (std::size_t i = 0; i < n; ++i) {
        data.push_back(pattern(4096, static_cast<std::uint32_t>(100 + i)));
        t->submit(write_request(i * 4096, data.back()), writes.completion(i));
    }
    CHECK(t->in_flight() == 4);
    CHECK(t->queued() == n - 4);
    REQUIRE(h.wait([&] { return writes.all_completed(); }));

    IoTally reads(n);
    std::vector<IoBuffer> buffers;
    for (std::size_t i = 0; i < n; ++i) {
        auto rd = read_request(i * 4096, 4096);
        buffers.push_back(rd.data);
        t->submit(std::move(rd), reads.completion(i));
    }
    REQUIRE(h.wait([&] { return reads.all_completed(); }));
    h.settle();
    CHECK(writes.each_exactly_once());
    CHECK(writes.count(IoStatus::ok) == n);
    CHECK(reads.each_exactly_once());
    CHECK(reads.count(IoStatus::ok) == n);
    CHECK(t->in_flight() == 0);
    CHECK(t->queued() == 0);
    for (std::size_t i = 0; i < n; ++i) {
        INFO("request " << i);
        CHECK(bytes_of(buffers[i], 4096) == data[i]);
    }
}

TEST_CASE("a FUA write and a flush complete successfully and the data reaches the file",
          "[nbd][io]") {
    REQUIRE_NBDKIT();
    ScratchDir scratch;
    auto image = scratch.make_file("disk.img", 4u << 20);
    NbdkitProcess server(file_server(image));
    TransportHarness h;
    auto t = open_or_fail(h, server.uri());

    auto data = pattern(8192, 7);
    auto w = write_request(65536, data);
    w.fua = true;
    auto wr = h.run(*t, std::move(w));
    REQUIRE(wr);
    CHECK(wr->ok());
    auto fl = h.run(*t, op_request(IoOp::flush));
    REQUIRE(fl);
    CHECK(fl->ok());

    std::ifstream in(image, std::ios::binary);
    in.seekg(65536);
    std::vector<std::byte> on_disk(data.size());
    in.read(reinterpret_cast<char*>(on_disk.data()), static_cast<std::streamsize>(on_disk.size()));
    CHECK(on_disk == data);
}

TEST_CASE("trim and write_zeroes complete and the range reads back as zeroes", "[nbd][io]") {
    REQUIRE_NBDKIT();
    ScratchDir scratch;
    auto image = scratch.make_file("disk.img", 4u << 20);
    NbdkitProcess server(file_server(image));
    TransportHarness h;
    auto t = open_or_fail(h, server.uri());
    std::vector<std::byte> zeroes(65536, std::byte{0});

    for (IoOp op : {IoOp::write_zeroes, IoOp::trim}) {
        INFO(to_string(op));
        auto wr = h.run(*t, write_request(0, pattern(65536, 3)));
        REQUIRE(wr);
        REQUIRE(wr->ok());
        auto z = op_request(op, 0, 65536);
        z.no_hole = op == IoOp::write_zeroes;
        z.fua = true;
        auto zr = h.run(*t, std::move(z));
        REQUIRE(zr);
        CHECK(zr->ok());
        auto rd = read_request(0, 65536);
        auto buf = rd.data;
        auto r = h.run(*t, std::move(rd));
        REQUIRE(r);
        CHECK(r->ok());
        // The file plugin punches holes for trim on ext4/tmpfs, which read back as zeroes.
        CHECK(bytes_of(buf, 65536) == zeroes);
    }
}

TEST_CASE("submit on a closed transport completes asynchronously with a path error", "[nbd][io]") {
    TransportHarness h;
    auto t = h.make("nbd+unix:///?socket=/nonexistent/never.sock");
    IoTally tally(1);
    t->submit(read_request(0, 4096), tally.completion(0));
    CHECK(tally.completed() == 0);
    REQUIRE(h.wait([&] { return tally.all_completed(); }));
    h.settle();
    CHECK(tally.each_exactly_once());
    CHECK(tally.result(0).status == IoStatus::path_error);
}

TEST_CASE("a request libnbd refuses to send is a target error and the path stays open",
          "[nbd][io]") {
    REQUIRE_NBDKIT();
    NbdkitProcess server(memory_server("8M"));
    TransportHarness h;
    auto t = open_or_fail(h, server.uri());

    auto beyond = h.run(*t, read_request(8u << 20, 4096)); // past the end
    REQUIRE(beyond);
    CHECK(beyond->status == IoStatus::target_error);
    CHECK(beyond->error == EINVAL);
    CHECK(t->is_open());
    auto ok = h.run(*t, read_request(0, 4096));
    REQUIRE(ok);
    CHECK(ok->ok());
}

TEST_CASE("a write to a read-only server is a target error", "[nbd][io]") {
    REQUIRE_NBDKIT();
    auto config = memory_server("8M");
    config.read_only = true;
    NbdkitProcess server(config);
    TransportHarness h;
    auto t = open_or_fail(h, server.uri());
    auto w = h.run(*t, write_request(0, pattern(4096, 1)));
    REQUIRE(w);
    CHECK(w->status == IoStatus::target_error);
    CHECK(t->is_open());
}

TEST_CASE("reads fail with a path error while the error file exists and succeed once removed",
          "[nbd][io][errors]") {
    REQUIRE_NBDKIT();
    ScratchDir scratch;
    auto trigger = scratch.path() / "fail";
    NbdkitProcess server(with_filters(memory_server("8M"), {"error"},
                                      {"error-rate=100%", "error-file=" + trigger.string()}));
    TransportHarness h;
    auto t = open_or_fail(h, server.uri());

    auto before = h.run(*t, read_request(0, 4096));
    REQUIRE(before);
    CHECK(before->ok());

    { std::ofstream touch(trigger); }
    auto failing = h.run(*t, read_request(0, 4096));
    REQUIRE(failing);
    CHECK(failing->status == IoStatus::path_error);
    CHECK(failing->error == EIO);
    CHECK(t->is_open()); // a server's EIO does not break the connection

    std::filesystem::remove(trigger);
    auto after = h.run(*t, read_request(0, 4096));
    REQUIRE(after);
    CHECK(after->ok());
}

TEST_CASE("a server answering writes with ENOSPC gives a target error ENOSPC",
          "[nbd][io][errors]") {
    REQUIRE_NBDKIT();
    NbdkitProcess server(with_filters(memory_server("8M"), {"error"},
                                      {"error-pwrite=ENOSPC", "error-pwrite-rate=100%"}));
    TransportHarness h;
    auto t = open_or_fail(h, server.uri());
    auto w = h.run(*t, write_request(0, pattern(4096, 9)));
    REQUIRE(w);
    CHECK(w->status == IoStatus::target_error);
    CHECK(w->error == ENOSPC);
    auto r = h.run(*t, read_request(0, 4096)); // reads are unaffected
    REQUIRE(r);
    CHECK(r->ok());
}
