// Marginal paths in the engine: a path that keeps failing and recovering is held back (used
// only while no healthier path is usable) and released once it has been clean for a while.
#include <algorithm>
#include <cerrno>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include "core/log_context.hpp"
#include "tests/unit/core/lu_fixture.hpp"

using namespace mpiod;
using namespace mpiod::test;

namespace {

/// Records the journald event and path of every line logged while it lives.
class EventSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
public:
    std::vector<std::pair<std::string, std::string>> events; // (MPIOD_EVENT, MPIOD_PATH)

protected:
    void sink_it_(const spdlog::details::log_msg&) override {
        if (const auto* c = current_log_context) {
            events.emplace_back(std::string(c->event), std::string(c->path));
        }
    }
    void flush_() override {}
};

class EventCapture {
public:
    EventCapture()
        : previous_(spdlog::default_logger()),
          sink_(std::make_shared<EventSink>()),
          logger_(std::make_shared<spdlog::logger>("events", sink_)) {
        logger_->set_level(spdlog::level::info);
        spdlog::set_default_logger(logger_);
    }
    ~EventCapture() { spdlog::set_default_logger(previous_); }
    EventCapture(const EventCapture&) = delete;
    EventCapture& operator=(const EventCapture&) = delete;

    long count(const std::string& event, const std::string& path) const {
        return std::count(sink_->events.begin(), sink_->events.end(), std::pair{event, path});
    }

private:
    std::shared_ptr<spdlog::logger> previous_;
    std::shared_ptr<EventSink> sink_;
    std::shared_ptr<spdlog::logger> logger_;
};

LuSettings marginal_settings(const std::string& policy = "rotating") {
    auto s = LuFixture::fast_settings();
    s.policy = policy;
    s.marginal.failures = 3;
    s.marginal.window = Millis{10'000};
    s.marginal.error_rate_percent = 0;
    s.marginal.release_after = Millis{5'000};
    return s;
}

const PathStatus& status_of(const LuStatus& s, const std::string& id) {
    for (const auto& p : s.paths) {
        if (p.id == id) {
            return p;
        }
    }
    throw std::runtime_error("no path " + id);
}

bool is_marginal(LuFixture& f, const std::string& id) {
    return status_of(f.lu->status(), id).marginal;
}

/// The path's connection drops (a failure) and the checker brings it back.
void flap(LuFixture& f, const std::string& id) {
    f.paths.at(id)->lose_connection();
    REQUIRE(f.state(id) == PathState::failed);
    REQUIRE(f.wait_state(id, PathState::active));
}

/// Paths a and b, up.
void add_a_and_b(LuFixture& f) {
    f.add("a");
    f.add("b");
    REQUIRE(f.wait_ready());
}

/// Three failures within the window: `id` is marginal.
void make_marginal(LuFixture& f, const std::string& id) {
    for (int i = 0; i < 3; ++i) {
        flap(f, id);
    }
    REQUIRE(is_marginal(f, id));
}

/// `n` writes, one after the other; every one must succeed.
void writes(LuFixture& f, int n) {
    for (int i = 0; i < n; ++i) {
        auto w = f.submit(IoOp::write, 8192 + 4096 * static_cast<std::uint64_t>(i % 64));
        REQUIRE(f.wait(w));
        REQUIRE(w->result.ok());
    }
}

} // namespace

TEST_CASE("a path failing a third time within marginal_window becomes marginal, not before",
          "[marginal]") {
    EventCapture log;
    LuFixture f(marginal_settings("first")); // like failover-only: a first while it is usable
    auto a = f.add("a");
    f.add("b");
    REQUIRE(f.wait_ready());
    for (int i = 1; i <= 3; ++i) {
        // Each failure comes with writes in flight on a; they complete on b.
        a->hold = true;
        std::vector<std::shared_ptr<Outcome>> in_flight;
        for (int k = 0; k < 4; ++k) {
            in_flight.push_back(f.submit(IoOp::write, 8192 + 4096 * k));
        }
        REQUIRE(f.run_until([&] { return a->pending.size() == 4; }));
        a->hold = false;
        flap(f, "a");
        for (auto& w : in_flight) {
            REQUIRE(f.wait(w));
            CHECK(w->result.ok());
        }
        CHECK(is_marginal(f, "a") == (i == 3));
    }
    const auto p = status_of(f.lu->status(), "a");
    CHECK(p.state == PathState::active); // marginal is not failed
    CHECK(p.marginal_reason == "3 failures within 10s");
    CHECK(p.marginal_entries == 1);
    CHECK(log.count("path_marginal", "a") == 1);
    CHECK(f.lu->status().io_errors == 0);
}

TEST_CASE("failures spread wider than marginal_window do not make a path marginal", "[marginal]") {
    auto s = marginal_settings();
    s.marginal.window = Millis{1'000};
    LuFixture f(s);
    add_a_and_b(f);
    for (int i = 0; i < 6; ++i) {
        flap(f, "a");
        f.run_for(Millis{510}); // never three failures within 1 s
    }
    CHECK_FALSE(is_marginal(f, "a"));
    CHECK(status_of(f.lu->status(), "a").counters.failures == 6);
}

TEST_CASE("a marginal path carries I/O only while no healthier path is usable", "[marginal]") {
    LuFixture f(marginal_settings("first"));
    auto a = f.add("a");
    auto b = f.add("b");
    REQUIRE(f.wait_ready());
    make_marginal(f, "a");
    const int a_before = f.data_ios("a", IoOp::write);
    writes(f, 8);
    CHECK(f.data_ios("a", IoOp::write) == a_before); // b, though a comes first
    CHECK(f.data_ios("b", IoOp::write) >= 8);

    // Still connected and checked while it carries nothing.
    const int checks = a->count(IoOp::read);
    f.run_for(Millis{200});
    CHECK(a->count(IoOp::read) > checks);

    // b goes: the marginal path is all there is, and it serves without a client error.
    b->open_fails = true;
    b->lose_connection();
    writes(f, 8);
    CHECK(f.data_ios("a", IoOp::write) == a_before + 8);
    CHECK(is_marginal(f, "a")); // still held back, for when b returns

    b->open_fails = false;
    REQUIRE(f.wait_state("b", PathState::active));
    writes(f, 8);
    CHECK(f.data_ios("a", IoOp::write) == a_before + 8); // back to b at once
    CHECK(f.lu->status().io_errors == 0);
}

TEST_CASE("a healthy standby or non-optimized path is preferred to a marginal one", "[marginal]") {
    LuFixture f(marginal_settings());
    auto nonopt_info = disk_info();
    nonopt_info.access = PathAccess::non_optimized;
    f.add("opt");
    f.add("nonopt", false, nonopt_info);
    f.add("spare", true);
    REQUIRE(f.wait_ready());
    make_marginal(f, "opt");
    writes(f, 6);
    CHECK(f.data_ios("nonopt", IoOp::write) == 6);

    REQUIRE(f.lu->fail_path("nonopt"));
    writes(f, 6);
    CHECK(f.data_ios("spare", IoOp::write) == 6); // the standby member, healthy

    REQUIRE(f.lu->fail_path("spare"));
    writes(f, 6);
    CHECK(f.data_ios("opt", IoOp::write) == 6);
}

TEST_CASE("an I/O error rate above marginal_error_rate makes a path marginal once it has the "
          "minimum sample",
          "[marginal]") {
    auto s = marginal_settings();
    s.marginal.failures = 0; // only the rate
    s.marginal.error_rate_percent = 5;
    s.marginal.window = Millis{60'000};
    LuFixture f(s);
    auto a = f.add("a");
    f.add("b");
    REQUIRE(f.wait_ready());
    int on_a = 0;
    a->outcome = [&on_a](const IoRequest& r) {
        // Every tenth write on a breaks the path: 10% of its I/O.
        return r.op == IoOp::write && ++on_a % 10 == 0 ? IoResult::path(EIO) : IoResult::success();
    };
    std::uint64_t ios_when_marginal = 0;
    for (int i = 0; i < 1000 && ios_when_marginal == 0; ++i) {
        writes(f, 1);
        f.run_for(Millis{5}); // one tick: the rate is judged there
        const auto p = status_of(f.lu->status(), "a");
        if (p.marginal) {
            ios_when_marginal = p.counters.ios;
        }
    }
    REQUIRE(ios_when_marginal != 0);
    CHECK(ios_when_marginal >= MarginalTracker::min_sample);
    const auto p = status_of(f.lu->status(), "a");
    CHECK(p.marginal_reason.rfind("error rate 10.", 0) == 0);
    CHECK(p.counters.failures >= 10); // one per error, none of which made it marginal alone
    const int a_before = f.data_ios("a", IoOp::write);
    REQUIRE(f.wait_state("a", PathState::active));
    writes(f, 8);
    CHECK(f.data_ios("a", IoOp::write) == a_before);
    CHECK(f.lu->status().io_errors == 0);
}

TEST_CASE("a marginal path is released after marginal_release_after up without a failure",
          "[marginal]") {
    EventCapture log;
    LuFixture f(marginal_settings());
    add_a_and_b(f);
    make_marginal(f, "a");
    const auto up = f.clock->now();
    REQUIRE(f.run_until([&] { return !is_marginal(f, "a"); }, std::chrono::seconds(10)));
    const auto took = f.clock->now() - up;
    CHECK(took >= Millis{5'000});
    CHECK(took <= Millis{5'000} + Millis{10}); // within two ticks (5 ms here)
    CHECK(log.count("path_marginal", "a") == 1);
    CHECK(log.count("path_marginal_released", "a") == 1);

    const int a_before = f.data_ios("a", IoOp::write);
    writes(f, 8);
    CHECK(f.data_ios("a", IoOp::write) == a_before + 4); // its share under rotation again
}

TEST_CASE("a failure while marginal starts the clean time again", "[marginal]") {
    EventCapture log;
    LuFixture f(marginal_settings());
    add_a_and_b(f);
    make_marginal(f, "a");
    f.run_for(Millis{4'000});
    flap(f, "a");
    const auto up = f.clock->now();
    REQUIRE(f.run_until([&] { return !is_marginal(f, "a"); }, std::chrono::seconds(10)));
    CHECK(f.clock->now() - up >= Millis{5'000});
    CHECK(log.count("path_marginal", "a") == 1); // held all along, logged once
    CHECK(log.count("path_marginal_released", "a") == 1);
}

TEST_CASE("reinstating a marginal path by hand releases it at once", "[marginal]") {
    EventCapture log;
    LuFixture f(marginal_settings("first"));
    add_a_and_b(f);
    make_marginal(f, "a");
    REQUIRE(f.lu->reinstate_path("a"));
    CHECK_FALSE(is_marginal(f, "a"));
    CHECK(log.count("path_marginal_released", "a") == 1);
    const int a_before = f.data_ios("a", IoOp::write);
    writes(f, 4);
    CHECK(f.data_ios("a", IoOp::write) == a_before + 4);

    // Its history went with it: one more failure is not a third.
    flap(f, "a");
    CHECK_FALSE(is_marginal(f, "a"));
}

TEST_CASE("a path that stays down through many checks is one failure, not marginal", "[marginal]") {
    LuFixture f(marginal_settings());
    auto a = f.add("a");
    f.add("b");
    REQUIRE(f.wait_ready());
    a->open_fails = true;
    a->lose_connection();
    f.run_for(Millis{1'000}); // about 50 failed reconnects at a 20 ms checker_interval
    CHECK(a->opens > 10);
    a->open_fails = false;
    REQUIRE(f.wait_state("a", PathState::active));
    CHECK_FALSE(is_marginal(f, "a"));
    CHECK(status_of(f.lu->status(), "a").counters.failures == 1);
}

TEST_CASE("operator fails are not failures that make a path marginal", "[marginal]") {
    LuFixture f(marginal_settings());
    add_a_and_b(f);
    flap(f, "a");
    flap(f, "a");
    REQUIRE(f.lu->fail_path("a")); // would be the third failure within the window
    CHECK(f.state("a") == PathState::admin_failed);
    f.run_for(Millis{100});
    CHECK_FALSE(is_marginal(f, "a"));
    CHECK(status_of(f.lu->status(), "a").counters.failures == 2);
}

TEST_CASE("with marginal_failures and marginal_error_rate 0 no path becomes marginal",
          "[marginal]") {
    auto s = marginal_settings();
    s.marginal.failures = 0;
    s.marginal.error_rate_percent = 0;
    LuFixture f(s);
    add_a_and_b(f);
    for (int i = 0; i < 6; ++i) {
        flap(f, "a");
    }
    CHECK_FALSE(is_marginal(f, "a"));
}

TEST_CASE("turning marginal paths off by a settings change releases a marginal path",
          "[marginal]") {
    LuFixture f(marginal_settings());
    add_a_and_b(f);
    make_marginal(f, "a");
    auto s = marginal_settings();
    s.marginal.failures = 0;
    f.lu->set_settings(s);
    REQUIRE(f.run_until([&] { return !is_marginal(f, "a"); }, Millis{100}));
}

TEST_CASE("the status says how long a path has been marginal", "[marginal]") {
    LuFixture f(marginal_settings());
    add_a_and_b(f);
    make_marginal(f, "a");
    const auto before = status_of(f.lu->status(), "a").marginal_for_ms;
    f.run_for(Millis{1'500});
    CHECK(status_of(f.lu->status(), "a").marginal_for_ms == before + 1'500);
    CHECK(status_of(f.lu->status(), "b").marginal_for_ms == 0);
}
