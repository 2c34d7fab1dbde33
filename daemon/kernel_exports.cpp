// Choosing and tearing down the kernel device of each LU. The nbd path hands socketpairs to
// the kernel; the FUSE path mounts one filesystem for all LUs and puts a loop device on each
// file.
#include "daemon/kernel_exports.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "exports/kernel/nbd_kernel_params.hpp"
#include "exports/kernel/nbd_netlink.hpp"

namespace mpiod {

std::optional<KernelExports::Kind> KernelExports::parse_kind(std::string_view text) noexcept {
    if (text == "socket") {
        return Kind::socket;
    }
    if (text == "nbd") {
        return Kind::nbd;
    }
    if (text == "fuse") {
        return Kind::fuse;
    }
    if (text == "fuse-file") {
        return Kind::fuse_file;
    }
    if (text == "auto") {
        return Kind::automatic;
    }
    return std::nullopt;
}

std::string_view KernelExports::to_string(Kind kind) noexcept {
    switch (kind) {
    case Kind::socket:
        return "socket";
    case Kind::nbd:
        return "nbd";
    case Kind::fuse:
        return "fuse";
    case Kind::fuse_file:
        return "fuse-file";
    case Kind::automatic:
        return "auto";
    }
    return "?";
}

KernelExports::KernelExports(boost::asio::any_io_executor ex, NbdServer& server,
                             const ExportConfig& config)
    : ex_(ex),
      server_(server),
      kind_(Kind::socket),
      fuse_dir_(config.fuse_mount_dir()),
      queues_(config.queues),
      reattach_timeout_(config.reattach_timeout),
      loop_worker_(ex) {
    auto parsed = parse_kind(config.kind);
    if (!parsed) {
        throw std::invalid_argument(fmt::format(
            "unknown export kind '{}' (valid: socket, nbd, fuse, fuse-file, auto)", config.kind));
    }
    kind_ = *parsed;
}

KernelExports::~KernelExports() {
    stop_now();
}

NbdDeviceOptions KernelExports::nbd_options_for(const LuSettings& settings, std::size_t paths,
                                                unsigned queues, std::chrono::seconds reattach) {
    using std::chrono::ceil;
    using std::chrono::seconds;
    NbdDeviceOptions options;
    options.sockets = queues;
    options.dead_conn_timeout = reattach;
    if (settings.no_path_retry.mode == NoPathRetry::Mode::queue) {
        options.sockets = 1;
        options.io_timeout = seconds(0); // one socket, timeout 0: the kernel never gives up
        return options;
    }
    auto worst = settings.io_timeout * static_cast<long>(std::max<std::size_t>(paths, 1));
    if (settings.no_path_retry.mode == NoPathRetry::Mode::timeout) {
        worst += settings.no_path_retry.timeout;
    }
    options.io_timeout = ceil<seconds>(worst) + seconds(10); // margin for queueing and checks
    return options;
}

void KernelExports::async_attach(std::shared_ptr<LogicalUnit> lu, AttachHandler done) {
    if (stopping_ || kind_ == Kind::socket) {
        boost::asio::post(ex_, [stopping = stopping_, done = std::move(done)]() mutable {
            if (stopping) {
                std::move(done)(ControlError::busy("the daemon is stopping"));
            } else {
                std::move(done)(std::string()); // socket only: no device
            }
        });
        return;
    }
    if (kind_ == Kind::automatic) {
        // Resolving the genl family is a quick netlink round trip, but still off the executor.
        auto available = std::make_shared<bool>(false);
        loop_worker_.run([available] { *available = NbdNetlink::available(); },
                         [this, available, lu = std::move(lu),
                          done = std::move(done)](const ControlResult<>&) mutable {
                             if (kind_ == Kind::automatic) {
                                 kind_ = *available ? Kind::nbd : Kind::fuse;
                                 spdlog::info("export kind auto: using {}{}", to_string(kind_),
                                              *available ? "" : " (kernel has no nbd module)");
                             }
                             async_attach(std::move(lu), std::move(done));
                         });
        return;
    }
    if (kind_ == Kind::nbd) {
        attach_nbd(std::move(lu), std::move(done));
    } else {
        attach_fuse(std::move(lu), kind_ == Kind::fuse, std::move(done));
    }
}

void KernelExports::attach_nbd(std::shared_ptr<LogicalUnit> lu, AttachHandler done) {
    auto options =
        nbd_options_for(lu->settings(), lu->status().paths.size(), queues_, reattach_timeout_);
    auto wwid = lu->wwid();
    auto name = lu->name();
    auto device =
        std::make_shared<NetlinkNbdDevice>(ex_, server_, std::move(lu), std::move(wwid), options);
    nbd_devices_[name] = device;
    device->async_attach([device, done = std::move(done)](ControlResult<> attached) mutable {
        if (!attached) {
            std::move(done)(std::move(attached).error());
            return;
        }
        std::move(done)(device->device_path());
    });
}

void KernelExports::attach_fuse(std::shared_ptr<IoTarget> target, bool with_loop,
                                AttachHandler done) {
    std::filesystem::path file;
    std::uint32_t block = 0;
    const auto info = target->export_info();
    try {
        if (!fuse_) {
            fuse_ = std::make_unique<FuseExport>(ex_, fuse_dir_);
        }
        fuse_->mount();
        block = nbd_block_size(info); // the same logical block an nbd device would get
        file = fuse_->add_file(target);
    } catch (const std::exception& e) {
        boost::asio::post(ex_, [error = std::string(e.what()), done = std::move(done)]() mutable {
            std::move(done)(ControlError::failed(error));
        });
        return;
    }
    if (!with_loop) {
        boost::asio::post(
            ex_, [file, done = std::move(done)]() mutable { std::move(done)(file.string()); });
        return;
    }
    auto slot = std::make_shared<std::optional<LoopDevice>>();
    loops_.push_back(slot);
    loop_of_[target->name()] = slot;
    loop_worker_.run(
        [slot, file, block, read_only = info.read_only] {
            slot->emplace(LoopDevice::attach(file, block, read_only));
        },
        [slot, file, name = target->name(), done = std::move(done)](ControlResult<> ran) mutable {
            if (!ran) {
                std::move(done)(ControlError::failed(
                    fmt::format("loop device on {}: {}", file.string(), ran.error().message)));
                return;
            }
            // The slot is the worker's, but the path is fixed once the attach job posted.
            auto path = (*slot)->path();
            spdlog::info("lu {}: {} on {}{}", name, path, file.string(),
                         (*slot)->direct_io() ? " (direct I/O)" : " (buffered)");
            std::move(done)(std::move(path));
        });
}

void KernelExports::async_stop(bool detach_nbd, std::function<void()> done) {
    stopping_ = true;
    detach_nbd_ = detach_nbd;
    // One step per nbd device detached, one for the loops and FUSE together.
    auto left = std::make_shared<std::size_t>((detach_nbd ? nbd_devices_.size() : 0) + 1);
    auto step_done = [left, done = std::move(done)](const std::string& what,
                                                    const ControlResult<>& step) {
        if (!step) {
            spdlog::error("detaching {}: {}", what, step.error().message);
        }
        if (--*left == 0) {
            done();
        }
    };
    for (auto& [name, kept] : nbd_devices_) {
        auto device = kept; // a copy the lambda can capture (clang: not a structured binding)
        if (!detach_nbd) {
            if (!device->device_path().empty()) {
                spdlog::info("lu {}: {} stays attached; the kernel holds its I/O for {} s for a "
                             "restarted mpiod to reattach",
                             name, device->device_path(), reattach_timeout_.count());
            }
            continue;
        }
        device->async_detach([device, step_done](const ControlResult<>& detached) {
            step_done(device->device_path().empty() ? "an nbd device" : device->device_path(),
                      detached);
        });
    }
    auto loops = loops_;
    loop_worker_.run(
        [loops] {
            for (const auto& slot : loops) {
                if (*slot) {
                    (*slot)->detach();
                }
            }
        },
        [this, step_done](const ControlResult<>& loops_detached) mutable {
            if (!loops_detached || !fuse_) {
                step_done("loop devices", loops_detached);
                return;
            }
            fuse_->async_unmount(
                [step_done](const ControlResult<>& r) { step_done("the FUSE export", r); });
        });
}

void KernelExports::async_detach(const std::string& lu_name, Completion<ControlResult<>> done) {
    auto it = nbd_devices_.find(lu_name);
    if (it == nbd_devices_.end()) {
        auto error = kind_ == Kind::nbd || kind_ == Kind::automatic
                         ? "lu " + lu_name + " has no nbd device"
                         : "lu " + lu_name + " has no nbd device (export kind " +
                               std::string(to_string(kind_)) + "; FUSE files go when mpiod stops)";
        boost::asio::post(ex_, [error, done = std::move(done)]() mutable {
            std::move(done)(ControlError::not_found(error));
        });
        return;
    }
    auto device = it->second;
    nbd_devices_.erase(it);
    auto path = device->device_path();
    device->async_detach(
        [device, path, lu_name, done = std::move(done)](ControlResult<> detached) mutable {
            if (detached) {
                spdlog::info("lu {}: detached {}", lu_name, path);
            }
            std::move(done)(std::move(detached));
        });
}

void KernelExports::async_resize(const std::string& lu_name, std::uint64_t size_bytes) {
    auto it = nbd_devices_.find(lu_name);
    if (it == nbd_devices_.end()) {
        if (fuse_ && (kind_ == Kind::fuse || kind_ == Kind::fuse_file)) {
            resize_fuse(lu_name, size_bytes);
        }
        return;
    }
    auto device = it->second;
    device->async_resize(size_bytes, [device, lu_name, size_bytes](const ControlResult<>& r) {
        if (r) {
            spdlog::info("lu {}: {} resized to {} bytes", lu_name, device->device_path(),
                         size_bytes);
        } else {
            spdlog::error("lu {}: resizing {}: {}", lu_name, device->device_path(),
                          r.error().message);
        }
    });
}

void KernelExports::resize_fuse(const std::string& lu_name, std::uint64_t size_bytes) {
    auto loop = loop_of_.count(lu_name) != 0 ? loop_of_[lu_name] : nullptr;
    fuse_->async_resize(lu_name, [this, lu_name, size_bytes, loop](const ControlResult<>& r) {
        if (!r) {
            spdlog::error("lu {}: resizing its FUSE file: {}", lu_name, r.error().message);
            return;
        }
        spdlog::info("lu {}: FUSE file resized to {} bytes", lu_name, size_bytes);
        if (!loop || stopping_) {
            return;
        }
        // The slot is the loop worker's: set the capacity there (it asks the FUSE file for
        // its size, which `ex` answers).
        loop_worker_.run(
            [loop] {
                if (*loop) {
                    (*loop)->set_capacity();
                }
            },
            [lu_name, size_bytes](const ControlResult<>& loop_resized) {
                if (loop_resized) {
                    spdlog::info("lu {}: loop device resized to {} bytes", lu_name, size_bytes);
                } else {
                    spdlog::error("lu {}: resizing its loop device: {}", lu_name,
                                  loop_resized.error().message);
                }
            });
    });
}

std::string KernelExports::device_of(const std::string& lu_name) const {
    auto it = nbd_devices_.find(lu_name);
    return it == nbd_devices_.end() ? "" : it->second->device_path();
}

void KernelExports::stop_now() {
    stopping_ = true;
    for (auto& [name, device] : nbd_devices_) {
        if (!detach_nbd_) {
            continue; // left for a restarted daemon to reattach (see async_stop)
        }
        try {
            device->detach_now();
        } catch (const std::exception& e) {
            spdlog::error("detaching {}: {}", device->device_path(), e.what());
        }
    }
    if (fuse_) {
        fuse_->unmount_now(); // aborts first: nothing below can wait on the stopped executor
    }
    auto loops = loops_;
    loop_worker_.run_and_wait([loops] {
        for (const auto& slot : loops) {
            if (*slot) {
                (*slot)->detach();
            }
        }
    });
}

} // namespace mpiod
