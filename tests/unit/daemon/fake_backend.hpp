// A ControlBackend over plain LuStatus values, recording what the control server asks of
// it. Shared by the control server and mpiod-ctl tests.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/control_backend.hpp"

namespace mpiod::test {

inline PathStatus make_path(std::string lu, std::string id, PathState state, std::string target) {
    PathStatus p;
    p.lu = std::move(lu);
    p.id = std::move(id);
    p.transport = "nbd";
    p.target = std::move(target);
    p.state = state;
    return p;
}

/// lun0 (1 GiB, paths a active and b standby) and lun1 (paths c failed, d active).
inline std::vector<LuStatus> sample_lus() {
    LuStatus lun0;
    lun0.name = "lun0";
    lun0.wwid = "wwid-0";
    lun0.policy = "service-time";
    lun0.state = "ready";
    lun0.size_bytes = 1ull << 30;
    lun0.block_size = 512;
    lun0.ios = 1500;
    lun0.failovers = 2;
    lun0.exports = {"/run/mpiod/lun0.sock"};
    lun0.paths = {make_path("lun0", "a", PathState::active, "nbd+unix:///?socket=/tmp/a.sock"),
                  make_path("lun0", "b", PathState::standby, "nbd+unix:///?socket=/tmp/b.sock")};
    lun0.paths[0].counters.ios = 1000;
    lun0.paths[0].counters.latency_total_us = 85'500;
    lun0.paths[0].counters.in_flight = 3;
    lun0.paths[1].standby_member = true;

    LuStatus lun1;
    lun1.name = "lun1";
    lun1.wwid = "wwid-1";
    lun1.policy = "round-robin";
    lun1.state = "ready";
    lun1.size_bytes = 10ull << 20;
    lun1.block_size = 4096;
    lun1.paths = {make_path("lun1", "c", PathState::failed, "nbd+unix:///?socket=/tmp/c.sock"),
                  make_path("lun1", "d", PathState::active, "nbd+unix:///?socket=/tmp/d.sock")};
    lun1.paths[0].last_error = "connection refused";
    lun1.paths[0].counters.errors = 4;
    lun1.paths[0].counters.failures = 1;
    return {lun0, lun1};
}

class FakeControlBackend final : public ControlBackend {
public:
    DaemonStatus status{"9.9.9", 4242, Clock::now() - std::chrono::seconds(75),
                        "/etc/mpiod/test.yaml"};
    std::vector<LuStatus> lu_list = sample_lus();
    std::vector<std::string> calls; // "fail-path a", "set-policy lun0 round-robin", ...
    int shutdown_requests = 0;
    std::function<void()> on_shutdown; // runs inside request_shutdown()
    bool throw_from_lus = false;

    DaemonStatus daemon_status() const override { return status; }

    std::vector<LuStatus> lus() const override {
        if (throw_from_lus) {
            throw std::runtime_error("snapshot exploded");
        }
        return lu_list;
    }

    ControlResult<> fail_path(const std::string& id) override {
        calls.push_back("fail-path " + id);
        return set_path_state(id, PathState::admin_failed);
    }

    ControlResult<> reinstate_path(const std::string& id) override {
        calls.push_back("reinstate-path " + id);
        return set_path_state(id, PathState::reinstating);
    }

    ControlResult<> set_policy(const std::string& lu, const std::string& policy) override {
        calls.push_back("set-policy " + lu + " " + policy);
        if (policy != "service-time" && policy != "round-robin" && policy != "queue-length") {
            return ControlError::invalid("unknown policy: " + policy);
        }
        auto* l = find(lu);
        if (l == nullptr) {
            return ControlError::not_found("no such LU: " + lu);
        }
        l->policy = policy;
        return success();
    }

    std::optional<ControlError> reload_error; // what reload() fails with, if set
    ControlResult<> reload() override {
        calls.push_back("reload");
        if (reload_error) {
            return *reload_error;
        }
        return success();
    }

    ControlResult<> resize(const std::string& lu) override {
        calls.push_back("resize " + lu);
        auto* l = find(lu);
        if (l == nullptr) {
            return ControlError::not_found("no such lu: " + lu);
        }
        l->rescanning = true;
        return success();
    }

    ControlResult<> detach(const std::string& lu) override {
        calls.push_back("detach " + lu);
        if (find(lu) == nullptr) {
            return ControlError::not_found("no such lu: " + lu);
        }
        return success();
    }

    void request_shutdown(bool detach) override {
        calls.push_back(detach ? "shutdown --detach" : "shutdown");
        ++shutdown_requests;
        if (on_shutdown) {
            on_shutdown();
        }
    }

private:
    LuStatus* find(const std::string& name) {
        for (auto& l : lu_list) {
            if (l.name == name) {
                return &l;
            }
        }
        return nullptr;
    }

    ControlResult<> set_path_state(const std::string& id, PathState state) {
        for (auto& lu : lu_list) {
            for (auto& p : lu.paths) {
                if (p.id == id) {
                    p.state = state;
                    return success();
                }
            }
        }
        return ControlError::not_found("no such path: " + id);
    }
};

} // namespace mpiod::test
