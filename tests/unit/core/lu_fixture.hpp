// A LogicalUnit over fake paths and a manual clock, with simple selectors, for engine tests.
// Time moves only when the fixture waits: every wait jumps from timer to timer, so the tests
// are deterministic and take no wall time.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "core/logical_unit.hpp"
#include "tests/support/fake_transport.hpp"
#include "tests/support/manual_clock.hpp"

namespace mpiod::test {

/// Rotates over the candidates, like round-robin, without depending on policies/.
class RotatingSelector final : public PathSelector {
public:
    std::string_view name() const noexcept override { return "rotating"; }
    std::optional<std::size_t> select(std::span<const PathLoad> c, const IoRequest&) override {
        if (c.empty()) {
            return std::nullopt;
        }
        return next_++ % c.size();
    }

private:
    std::size_t next_ = 0;
};

/// Always the first candidate, like failover-only.
class FirstSelector final : public PathSelector {
public:
    std::string_view name() const noexcept override { return "first"; }
    std::optional<std::size_t> select(std::span<const PathLoad> c, const IoRequest&) override {
        if (c.empty()) {
            return std::nullopt;
        }
        return 0;
    }
};

inline PolicyFactory test_policies() {
    return [](std::string_view name) -> std::unique_ptr<PathSelector> {
        if (name == "rotating") {
            return std::make_unique<RotatingSelector>();
        }
        if (name == "first") {
            return std::make_unique<FirstSelector>();
        }
        return nullptr;
    };
}

inline TransportInfo disk_info(std::uint64_t size = 1 << 20) {
    TransportInfo t;
    t.size_bytes = size;
    t.min_block = 512;
    t.preferred_block = 4096;
    t.can_flush = t.can_fua = t.can_trim = t.can_write_zeroes = true;
    return t;
}

struct Outcome {
    bool done = false;
    IoResult result{};
};

struct LuFixture {
    boost::asio::io_context io;
    std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
    std::shared_ptr<LogicalUnit> lu;
    std::map<std::string, std::shared_ptr<FakePathControl>> paths;

    explicit LuFixture(LuSettings s = fast_settings()) {
        lu = std::make_shared<LogicalUnit>(io.get_executor(), "lu0", "wwid-1", std::move(s),
                                           test_policies(), clock);
    }
    ~LuFixture() {
        lu->stop();
        io.restart();
        io.poll();
    }

    static LuSettings fast_settings() {
        LuSettings s;
        s.policy = "rotating";
        s.io_timeout = Millis{200};
        s.checker_interval = Millis{20};
        s.no_path_retry = NoPathRetry::after(Millis{300});
        return s;
    }
    /// fast_settings with early hang detection at 250 ms and a longer io_timeout, so that a
    /// suspicion and a deadline fall far apart.
    static LuSettings hang_detection_settings(Millis io_timeout) {
        auto s = fast_settings();
        s.io_timeout = io_timeout;
        s.suspect_after = Millis{250};
        return s;
    }

    std::shared_ptr<FakePathControl> add(const std::string& id, bool standby = false,
                                         TransportInfo info = disk_info()) {
        auto c = std::make_shared<FakePathControl>();
        c->info = info;
        PathSpec spec;
        spec.id = id;
        spec.transport = std::make_unique<FakeTransport>(io.get_executor(), c, id);
        spec.wwid = "wwid-1";
        spec.standby = standby;
        paths[id] = c;
        if (auto added = lu->add_path(std::move(spec)); !added) {
            throw std::runtime_error(added.error().message);
        }
        return c;
    }

    PathState state(const std::string& id) const {
        for (const auto& p : lu->status().paths) {
            if (p.id == id) {
                return p.state;
            }
        }
        throw std::runtime_error("no path " + id);
    }

    /// Runs the engine, moving the clock from timer to timer, until `done` holds; false if
    /// it does not within `limit` of clock time.
    bool run_until(const std::function<bool()>& done,
                   Clock::duration limit = std::chrono::seconds(5)) {
        return clock->run_until(io, done, limit);
    }
    /// Runs the engine for `d` of clock time.
    void run_for(Clock::duration d) { clock->run_for(io, d); }

    bool wait_state(const std::string& id, PathState s,
                    Clock::duration limit = std::chrono::seconds(5)) {
        return run_until([&] { return state(id) == s; }, limit);
    }

    bool wait_ready() {
        return run_until([&] {
            if (!lu->ready()) {
                return false;
            }
            for (const auto& p : lu->status().paths) {
                if (p.state == PathState::reinstating) {
                    return false;
                }
            }
            return true;
        });
    }

    std::shared_ptr<Outcome> submit(IoOp op, std::uint64_t offset = 0, std::uint32_t length = 4096,
                                    bool fua = false) {
        IoRequest r;
        r.op = op;
        r.offset = offset;
        r.length = op == IoOp::flush ? 0 : length;
        r.fua = fua;
        if (r.carries_data()) {
            r.data = make_io_buffer(length);
        }
        return submit_request(std::move(r));
    }

    std::shared_ptr<Outcome> submit_request(IoRequest r) {
        auto c = std::make_shared<Outcome>();
        lu->submit(std::move(r), [c](IoResult res) {
            c->done = true;
            c->result = res;
        });
        return c;
    }

    bool wait(const std::shared_ptr<Outcome>& c, Clock::duration limit = std::chrono::seconds(5)) {
        return run_until([&] { return c->done; }, limit);
    }

    /// I/Os of `op` a path carried, probes excluded (probes are reads of offset 0 made
    /// while the path is not yet carrying I/O; tests use other offsets for data).
    int data_ios(const std::string& id, IoOp op) {
        int n = 0;
        for (const auto& r : paths.at(id)->submitted) {
            if (r.op == op && !(op == IoOp::read && r.offset == 0)) {
                ++n;
            }
        }
        return n;
    }
};

} // namespace mpiod::test
