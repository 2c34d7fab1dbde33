// Command-line grammar of mpiod-ctl (multipathd-like verbs) mapped onto protocol requests.
#include "ctl/cli.hpp"

#include <chrono>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "ctl/control_client.hpp"
#include "ctl/render.hpp"
#include "ctl/stats.hpp"

namespace mpiod::ctl {

namespace {

using json = nlohmann::json;

// What the command line asked for: one request and how to print its result. An action with
// `settled` repeats `poll` (until the --timeout) until settled(result) holds, then renders
// the last result.
struct Action {
    json request;
    std::function<std::string(const json&)> render;
    json poll = nullptr;
    std::function<bool(const json&)> settled = nullptr;
    /// When set: `request` is sent twice this many seconds apart and the result is
    /// compute_stats(first, second) (mpiod-ctl stats).
    double interval_s = 0;
    json text_request = nullptr; // sent instead of `request` for text output (fewer fields)
};

bool has_nbd_device(const json& lu) {
    if (!lu.is_object() || !lu.contains("exports") || !lu["exports"].is_array()) {
        return false;
    }
    for (const auto& e : lu["exports"]) {
        if (e.is_string() && e.get<std::string>().rfind("/dev/nbd", 0) == 0) {
            return true;
        }
    }
    return false;
}

std::string state_suffix(const json& path) {
    if (path.is_object() && path.contains("state") && path["state"].is_string()) {
        return "; state is now " + path["state"].get<std::string>();
    }
    return "";
}

std::string socket_path(const std::string& option) {
    if (!option.empty()) {
        return option;
    }
    const char* env = std::getenv("MPIOD_CONTROL_SOCKET");
    return env != nullptr && *env != '\0' ? env : default_control_socket;
}

// A subcommand that takes one further word, as in "fail path ID".
CLI::App* verb(CLI::App& app, const char* name, const char* help) {
    auto* sub = app.add_subcommand(name, help);
    sub->require_subcommand(1, 1);
    return sub;
}

void add_commands(CLI::App& app, Action& action, std::string& arg1, std::string& arg2,
                  bool& detach_flag, double& interval_s) {
    auto* stats = app.add_subcommand(
        "stats", "IOPS, bandwidth, latency percentiles, failovers and errors per LU and path");
    stats->add_option("--interval", interval_s, "Seconds to measure over")
        ->check(CLI::Range(0.1, 3600.0))
        ->capture_default_str();
    stats->callback([&] {
        action = {{{"command", "list-lus"}}, render_stats};
        action.interval_s = interval_s;
    });

    app.add_subcommand("status", "Show the daemon's version, uptime and path counts")
        ->callback([&] {
            action = {{{"command", "status"}}, render_status};
        });

    auto* list = verb(app, "list", "List LUs or paths, or show one LU");
    list->alias("show");
    list->add_subcommand("lus", "One line per LU")->callback([&] {
        action = {{{"command", "list-lus"}}, render_lus};
        action.text_request = {{"command", "list-lus"}, {"fields", lus_fields()}};
    });
    list->add_subcommand("paths", "One line per path")->callback([&] {
        action = {{{"command", "list-paths"}}, render_paths};
        action.text_request = {{"command", "list-paths"}, {"fields", paths_fields()}};
    });
    auto* lu = list->add_subcommand("lu", "One LU with its paths");
    lu->add_option("LU", arg1, "LU name or WWID")->required();
    lu->callback([&] { action = {{{"command", "show-lu"}, {"lu", arg1}}, render_lu}; });

    auto* fail_path = verb(app, "fail", "Fail a path by hand (it stays failed until reinstated)")
                          ->add_subcommand("path", "Fail this path");
    fail_path->add_option("PATH", arg1, "Path id")->required();
    fail_path->callback([&] {
        action = {{{"command", "fail-path"}, {"path", arg1}}, [&](const json& r) {
                      return "path " + arg1 + ": failed by operator" + state_suffix(r) + "\n";
                  }};
    });

    auto* reinstate = verb(app, "reinstate", "Give a path back to the checker")
                          ->add_subcommand("path", "Reinstate this path");
    reinstate->add_option("PATH", arg1, "Path id")->required();
    reinstate->callback([&] {
        action = {{{"command", "reinstate-path"}, {"path", arg1}}, [&](const json& r) {
                      return "path " + arg1 + ": reinstated by operator" + state_suffix(r) + "\n";
                  }};
    });

    auto* policy = verb(app, "set", "Change an LU setting")
                       ->add_subcommand("policy", "Change an LU's path selection policy");
    policy->add_option("LU", arg1, "LU name")->required();
    policy->add_option("POLICY", arg2, "Policy name (e.g. service-time, round-robin)")->required();
    policy->callback([&] {
        action = {{{"command", "set-policy"}, {"lu", arg1}, {"policy", arg2}},
                  [&](const json&) { return "LU " + arg1 + ": policy is now " + arg2 + "\n"; }};
    });

    app.add_subcommand("reload", "Re-read the configuration file and apply it live")->callback([&] {
        action = {{{"command", "reload"}}, [](const json& lus) {
                      return "configuration reloaded; " +
                             std::to_string(lus.is_array() ? lus.size() : 0) + " LU(s)\n";
                  }};
    });

    auto* resize = app.add_subcommand(
        "resize", "Re-read an LU's capacity from its paths and grow it (and its device)");
    resize->add_option("LU", arg1, "LU name or WWID")->required();
    resize->callback([&] {
        action = {{{"command", "resize"}, {"lu", arg1}},
                  [&](const json& shown) {
                      return "LU " + arg1 + ": size " +
                             std::to_string(shown.value("size_bytes", std::uint64_t{0})) +
                             " bytes\n";
                  },
                  {{"command", "show-lu"}, {"lu", arg1}},
                  [](const json& shown) { return !shown.value("rescanning", false); }};
    });

    auto* detach = app.add_subcommand("detach", "Detach an LU's /dev/nbdX (unmount it first)");
    detach->add_option("LU", arg1, "LU name or WWID")->required();
    detach->callback([&] {
        action = {{{"command", "detach"}, {"lu", arg1}},
                  [&](const json&) { return "LU " + arg1 + ": kernel device detached\n"; },
                  {{"command", "show-lu"}, {"lu", arg1}},
                  [](const json& shown) { return !has_nbd_device(shown); }};
    });

    auto* shutdown = app.add_subcommand(
        "shutdown", "Ask mpiod to drain its I/O and exit (kernel devices stay for a restart)");
    shutdown->add_flag("--detach", detach_flag, "Detach the kernel devices too");
    shutdown->callback([&] {
        action = {{{"command", "shutdown"}, {"detach", detach_flag}}, [&](const json&) {
                      return std::string(detach_flag
                                             ? "mpiod is shutting down and detaching its devices\n"
                                             : "mpiod is shutting down\n");
                  }};
    });
}

} // namespace

int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
    CLI::App app{"Control mpiod, the multipath I/O daemon, through its control socket.",
                 "mpiod-ctl"};
    std::string socket_option;
    bool json_output = false;
    double timeout_s = 10;
    Action action;
    std::string arg1;
    std::string arg2;
    bool detach_flag = false;
    double interval_s = 1;

    app.fallthrough(); // global options may follow the command: "list paths --json"
    app.require_subcommand(1, 1);
    app.add_option("--socket", socket_option,
                   "Control socket (default: $MPIOD_CONTROL_SOCKET, else " +
                       std::string(default_control_socket) + ")");
    app.add_flag("--json", json_output, "Print the daemon's JSON result instead of text");
    std::vector<std::string> fields;
    app.add_option("--fields", fields,
                   "With --json, for list lus, list paths and show lu: only these fields of "
                   "each LU and path (comma-separated, e.g. id,state)")
        ->delimiter(',');
    app.add_option("--timeout", timeout_s, "Seconds to wait for the daemon's reply")
        ->check(CLI::Range(0.001, 3600.0))
        ->capture_default_str();
    add_commands(app, action, arg1, arg2, detach_flag, interval_s);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e, out, err) == 0 ? exit_ok : exit_usage;
    }

    if (!fields.empty()) {
        const auto& command = action.request["command"];
        if (!json_output) {
            err << "mpiod-ctl: --fields needs --json (the tables choose their own fields)\n";
            return exit_usage;
        }
        if (command != "list-lus" && command != "list-paths" && command != "show-lu") {
            err << "mpiod-ctl: --fields applies to list lus, list paths and show lu\n";
            return exit_usage;
        }
        action.request["fields"] = fields;
    }

    ControlClient client(socket_path(socket_option),
                         std::chrono::milliseconds(static_cast<long>(timeout_s * 1000)));
    try {
        if (json_output && action.interval_s <= 0 && !action.settled) {
            auto printed = client.call_printed(action.request);
            if (!printed.ok) {
                err << "mpiod-ctl: " << printed.error << "\n";
                return exit_command_failed;
            }
            out << printed.printed;
            return exit_ok;
        }
        bool text_only = !json_output && !action.text_request.is_null();
        auto reply = client.call(text_only ? action.text_request : action.request);
        if (!reply.ok) {
            err << "mpiod-ctl: " << reply.error << "\n";
            return exit_command_failed;
        }
        if (action.interval_s > 0) {
            const auto start = std::chrono::steady_clock::now();
            std::this_thread::sleep_for(std::chrono::duration<double>(action.interval_s));
            auto later = client.call(action.request);
            if (!later.ok) {
                err << "mpiod-ctl: " << later.error << "\n";
                return exit_command_failed;
            }
            const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
            reply.result = compute_stats(reply.result, later.result, took.count());
        }
        if (action.settled) {
            const auto deadline = std::chrono::steady_clock::now() +
                                  std::chrono::milliseconds(static_cast<long>(timeout_s * 1000));
            while (!action.settled(reply.result)) {
                if (std::chrono::steady_clock::now() >= deadline) {
                    err << "mpiod-ctl: no result within " << timeout_s << " s\n";
                    return exit_command_failed;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(50)); // polling interval
                reply = client.call(action.poll);
                if (!reply.ok) {
                    err << "mpiod-ctl: " << reply.error << "\n";
                    return exit_command_failed;
                }
            }
        }
        if (json_output) {
            out << reply.result.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
        } else {
            out << action.render(reply.result);
        }
        return exit_ok;
    } catch (const ClientError& e) {
        err << "mpiod-ctl: " << e.what() << "\n";
        return exit_unreachable;
    }
}

} // namespace mpiod::ctl
