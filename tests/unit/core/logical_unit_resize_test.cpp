// Capacity rescan: paths reconnect one at a time, the LU grows only when every usable path
// reports the same larger size, I/O goes on meanwhile, and a smaller path is refused.
#include <catch2/catch.hpp>

#include "tests/unit/core/lu_fixture.hpp"

using namespace mpiod;
using namespace mpiod::test;

namespace {

struct RescanOutcome {
    bool done = false;
    std::string error;
    std::string message;
};

std::shared_ptr<RescanOutcome> rescan(LuFixture& f) {
    auto out = std::make_shared<RescanOutcome>();
    f.lu->async_rescan([out](ControlResult<std::string> outcome) {
        out->done = true;
        if (outcome) {
            out->message = outcome.value();
        } else {
            out->error = outcome.error().message;
        }
    });
    return out;
}

} // namespace

TEST_CASE("a rescan grows the LU when every path reports the larger size", "[resize]") {
    LuFixture f;
    auto a = f.add("a");
    auto b = f.add("b");
    REQUIRE(f.wait_ready());
    std::vector<std::uint64_t> resized;
    f.lu->on_resize([&](std::uint64_t size) { resized.push_back(size); });
    const int opens_before = a->opens + b->opens;
    a->info.size_bytes = b->info.size_bytes = 2 << 20;
    auto out = rescan(f);
    CHECK(f.lu->rescanning());
    REQUIRE(f.run_until([&] { return out->done; }));
    CHECK(out->error.empty());
    CHECK(out->message == "grew from 1048576 to 2097152 bytes");
    CHECK(f.lu->export_info().size_bytes == 2u << 20);
    CHECK(resized == std::vector<std::uint64_t>{2u << 20});
    CHECK(a->opens + b->opens == opens_before + 2); // each path reconnected once
    CHECK_FALSE(f.lu->rescanning());
    CHECK(f.state("a") == PathState::active);
    CHECK(f.state("b") == PathState::active);
    // The new range is usable at once.
    auto w = f.submit(IoOp::write, (2u << 20) - 4096);
    REQUIRE(f.wait(w));
    CHECK(w->result.ok());
}

TEST_CASE("paths that disagree on the capacity leave the size unchanged", "[resize]") {
    LuFixture f;
    auto a = f.add("a");
    f.add("b");
    REQUIRE(f.wait_ready());
    bool resized = false;
    f.lu->on_resize([&](std::uint64_t) { resized = true; });
    a->info.size_bytes = 2 << 20; // b still reports 1 MiB
    auto out = rescan(f);
    REQUIRE(f.run_until([&] { return out->done; }));
    CHECK(out->message == "paths disagree (a 2097152, b 1048576); size unchanged (1048576 bytes)");
    CHECK(f.lu->export_info().size_bytes == 1u << 20);
    CHECK_FALSE(resized);
    CHECK(f.state("a") == PathState::active); // a larger path still serves the LU's range
}

TEST_CASE("I/O submitted during a rescan completes without errors", "[resize]") {
    LuFixture f;
    auto a = f.add("a");
    auto b = f.add("b");
    REQUIRE(f.wait_ready());
    a->info.size_bytes = b->info.size_bytes = 2 << 20;
    auto out = rescan(f);
    std::vector<std::shared_ptr<Outcome>> ios;
    while (!out->done) {
        ios.push_back(f.submit(IoOp::write, 8192 + 4096 * (ios.size() % 64)));
        f.run_for(Millis{5}); // each round of writes meets the rescan at another step
    }
    for (auto& io : ios) {
        REQUIRE(f.wait(io));
        CHECK(io->result.ok());
    }
    CHECK(f.lu->status().io_errors == 0);
}

TEST_CASE("a second rescan while one runs is refused; a smaller path is refused", "[resize]") {
    LuFixture f;
    auto a = f.add("a");
    f.add("b");
    REQUIRE(f.wait_ready());
    auto first = rescan(f);
    auto second = rescan(f);
    REQUIRE(f.run_until([&] { return first->done && second->done; }));
    CHECK(second->error == "a rescan is running");
    CHECK(first->message == "size unchanged (1048576 bytes)");

    a->info.size_bytes = 512 << 10; // the storage shrank under path a
    auto again = rescan(f);
    REQUIRE(f.run_until([&] { return again->done; }));
    CHECK(again->message == "size unchanged (1048576 bytes)"); // b alone still agrees
    CHECK(f.state("a") == PathState::failed);
    CHECK(f.lu->status().paths.at(0).last_error ==
          "refused: size 524288 is smaller than the lu's 1048576");
}
