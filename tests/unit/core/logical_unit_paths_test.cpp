// Path life cycle in the engine: identity checks, checker, failback, standby subset,
// operator actions.
#include <cerrno>

#include <catch2/catch.hpp>

#include "tests/unit/core/lu_fixture.hpp"

using namespace mpiod;
using namespace mpiod::test;

TEST_CASE("a path whose size differs from its LU's is refused") {
    LuFixture f;
    f.add("a");
    REQUIRE(f.wait_ready());
    f.add("b", false, disk_info(2 << 20));
    REQUIRE(f.run_until([&] { return f.state("b") == PathState::failed; }));
    auto st = f.lu->status();
    CHECK(st.paths[1].last_error.find("size") != std::string::npos);
    // It stays refused on the checker's retries.
    REQUIRE(f.run_until([&] { return f.paths["b"]->opens >= 3; }));
    CHECK_FALSE(is_usable(f.state("b")));
}

TEST_CASE("a path that reports another identity is refused") {
    LuFixture f;
    f.add("a");
    REQUIRE(f.wait_ready());
    auto info = disk_info();
    info.wwid = "someone-else";
    f.add("b", false, info);
    REQUIRE(f.run_until([&] { return f.state("b") == PathState::failed; }));
    CHECK(f.lu->status().paths[1].last_error.find("identity") != std::string::npos);
}

TEST_CASE("a failed path is reconnected, probed and reinstated at once with failback immediate") {
    LuFixture f;
    auto a = f.add("a");
    f.add("b");
    REQUIRE(f.wait_ready());
    a->outcome = [](const IoRequest&) { return IoResult::path(EIO); };
    a->open_fails = true;
    auto c = f.submit(IoOp::read, 8192);
    REQUIRE(f.wait(c));
    REQUIRE(f.state("a") == PathState::failed);
    int opens_before = a->opens;
    REQUIRE(f.run_until([&] { return a->opens > opens_before + 1; })); // checker retries
    CHECK_FALSE(is_usable(f.state("a")));
    a->open_fails = false;
    a->outcome = nullptr;
    REQUIRE(f.wait_state("a", PathState::active));
}

TEST_CASE(
    "with failback manual a recovered path waits in standby until the operator reinstates it") {
    auto s = LuFixture::fast_settings();
    s.failback = Failback::manual();
    LuFixture f(s);
    auto a = f.add("a");
    f.add("b");
    REQUIRE(f.wait_ready());
    a->outcome = [](const IoRequest&) { return IoResult::path(EIO); };
    auto c = f.submit(IoOp::read, 8192);
    REQUIRE(f.wait(c));
    a->outcome = nullptr;
    REQUIRE(f.wait_state("a", PathState::standby));
    // Standby carries nothing while an active path is usable.
    for (int i = 0; i < 6; ++i) {
        REQUIRE(f.wait(f.submit(IoOp::write, 8192)));
    }
    CHECK(f.data_ios("a", IoOp::write) == 0);
    REQUIRE(f.lu->reinstate_path("a"));
    CHECK(f.state("a") == PathState::active);
}

TEST_CASE("with failback after a delay a recovered path becomes active after that delay") {
    auto s = LuFixture::fast_settings();
    s.failback = Failback::after(Millis{150});
    LuFixture f(s);
    auto a = f.add("a");
    f.add("b");
    REQUIRE(f.wait_ready());
    a->outcome = [](const IoRequest&) { return IoResult::path(EIO); };
    REQUIRE(f.wait(f.submit(IoOp::read, 8192)));
    a->outcome = nullptr;
    REQUIRE(f.wait_state("a", PathState::standby));
    auto standby_at = f.clock->now();
    REQUIRE(f.wait_state("a", PathState::active));
    CHECK(f.clock->now() - standby_at >= Millis{150});
    CHECK(f.clock->now() - standby_at <= Millis{160});
}

TEST_CASE("standby subset members carry I/O only when every active member is down") {
    LuFixture f;
    f.add("A");
    f.add("B");
    f.add("C");
    f.add("D", true);
    REQUIRE(f.wait_ready());
    CHECK(f.state("D") == PathState::standby);
    auto burst = [&] {
        for (int i = 0; i < 9; ++i) {
            REQUIRE(f.wait(f.submit(IoOp::write, 8192 + 4096 * i)));
        }
    };
    burst();
    CHECK(f.data_ios("D", IoOp::write) == 0);

    REQUIRE(f.lu->fail_path("A"));
    REQUIRE(f.lu->fail_path("B"));
    burst();
    CHECK(f.data_ios("D", IoOp::write) == 0); // C is still there

    REQUIRE(f.lu->fail_path("C"));
    burst();
    CHECK(f.data_ios("D", IoOp::write) == 9);

    REQUIRE(f.lu->reinstate_path("B"));
    REQUIRE(f.wait_state("B", PathState::active));
    int d_before = f.data_ios("D", IoOp::write);
    int b_before = f.data_ios("B", IoOp::write);
    burst();
    CHECK(f.data_ios("D", IoOp::write) == d_before); // back to the active set at once
    CHECK(f.data_ios("B", IoOp::write) == b_before + 9);
}

TEST_CASE("an operator-failed path finishes its I/O in flight but gets nothing new") {
    auto s = LuFixture::fast_settings();
    s.policy = "first";
    LuFixture f(s);
    auto a = f.add("a");
    auto b = f.add("b");
    REQUIRE(f.wait_ready());
    a->hold = true;
    auto first = f.submit(IoOp::write, 8192);
    REQUIRE(f.run_until([&] { return a->pending.size() == 1; }));
    REQUIRE(f.lu->fail_path("a"));
    CHECK(f.state("a") == PathState::admin_failed);
    auto second = f.submit(IoOp::write, 12288);
    REQUIRE(f.wait(second));
    CHECK(f.data_ios("b", IoOp::write) == 1);
    FakeTransport::release(f.io.get_executor(), *a);
    REQUIRE(f.wait(first));
    CHECK(first->result.ok());
    CHECK(f.state("a") == PathState::admin_failed); // no checker reinstates it
    CHECK(f.lu->fail_path("nope").error().message.find("no path") != std::string::npos);
}

TEST_CASE("an idle healthy path whose check fails is failed") {
    LuFixture f;
    auto a = f.add("a");
    f.add("b");
    REQUIRE(f.wait_ready());
    a->outcome = [](const IoRequest&) { return IoResult::path(ECONNRESET); };
    REQUIRE(f.wait_state("a", PathState::failed));
    CHECK(f.lu->status().paths[0].last_error.find("checker") != std::string::npos);
}

TEST_CASE("the policy can be changed at run time and an unknown one is refused") {
    LuFixture f;
    f.add("a");
    REQUIRE(f.wait_ready());
    CHECK(f.lu->set_policy("first"));
    CHECK(f.lu->status().policy == "first");
    CHECK_FALSE(f.lu->set_policy("nonsense"));
    CHECK(f.lu->status().policy == "first");
}

TEST_CASE("a removed path finishes its I/O in flight, gets nothing new, then closes and "
          "leaves the status; its id may come back") {
    LuFixture f;
    auto a = f.add("a");
    f.add("b");
    REQUIRE(f.wait_ready());
    a->hold = true;
    std::vector<std::shared_ptr<Outcome>> ios;
    for (int i = 0; i < 4; ++i) {
        ios.push_back(f.submit(IoOp::write, 8192 + 4096 * i));
    }
    REQUIRE(f.run_until([&] { return !a->pending.empty(); }));
    const auto held = a->pending.size();
    REQUIRE(f.lu->remove_path("a"));
    CHECK(f.lu->status().paths.size() == 1);
    CHECK(f.lu->path_count() == 1);
    CHECK_FALSE(f.lu->has_path("a"));
    CHECK(a->open); // its I/O is still out there
    for (int i = 0; i < 4; ++i) {
        REQUIRE(f.wait(f.submit(IoOp::write, 65536 + 4096 * i)));
    }
    CHECK(f.data_ios("a", IoOp::write) == static_cast<int>(held)); // nothing new
    a->hold = false;
    FakeTransport::release(f.io.get_executor(), *a);
    for (auto& io : ios) {
        REQUIRE(f.wait(io));
        CHECK(io->result.ok());
    }
    REQUIRE(f.run_until([&] { return !a->open; }));
    CHECK(f.lu->remove_path("a").error().message == "no path 'a' in lu lu0");
    f.add("a"); // a path of that id may be configured again
    REQUIRE(f.wait_state("a", PathState::active));
}
