// One path to a logical unit over one transport (NBD connection, iSCSI session+LUN,
// /dev/sgN). Implementations live in transports/; core only sees this interface.
//
// Threading: a transport is created on the engine's executor and every call and every
// completion happens there. Completions are always delivered asynchronously (posted),
// never from inside the call that started the operation.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/system/error_code.hpp>

#include "core/capabilities.hpp"
#include "core/completion.hpp"
#include "core/io_completion.hpp"
#include "core/io_request.hpp"

namespace mpiod {

/// How a path may be used, from the target's view (SCSI ALUA asymmetric access state).
/// Transports without ALUA report `optimized`. Core sends I/O to optimized paths first,
/// to non-optimized ones only when no optimized path is usable, and never to the others.
enum class PathAccess : std::uint8_t {
    optimized,
    non_optimized,
    standby,
    unavailable,
    transitioning,
};

std::string_view to_string(PathAccess access) noexcept;

/// What a path says about the LU behind it, learnt at open time.
struct TransportInfo : Capabilities {
    std::string wwid; // identity from the storage (VPD 0x83); empty when it has none
    std::uint64_t size_bytes = 0;
    PathAccess access = PathAccess::optimized;
    std::string access_detail; // e.g. "tpg 1", shown to humans; empty when none
};

/// Called exactly once as std::move(done)(ec, info).
using OpenCompletion = Completion<boost::system::error_code, TransportInfo>;

class Transport {
public:
    virtual ~Transport() = default;

    /// "nbd", "iscsi", "sg".
    virtual std::string_view kind() const noexcept = 0;
    /// Where the path goes, for humans: an NBD URI, a portal and LUN, a device node.
    virtual std::string describe() const = 0;

    /// Connects (or reconnects after close()) and reports what the path serves.
    /// A transport may be opened again after close(): that is how paths are reinstated.
    virtual void async_open(OpenCompletion done) = 0;

    /// Starts one I/O. Only valid while open. Any number may be in flight.
    virtual void submit(IoRequest request, IoCompletion done) = 0;

    /// Liveness probe used by the path checker. The default reads `block_bytes` at offset 0;
    /// SCSI transports may prefer TEST UNIT READY.
    virtual void async_check(std::uint32_t block_bytes, IoCompletion done);

    /// Drops the connection. Every I/O still in flight completes with path_error
    /// (asynchronously). Idempotent; async_open() may follow.
    virtual void close() noexcept = 0;

    virtual bool is_open() const noexcept = 0;

    /// Core installs this to learn access-state changes after open (an ALUA state change
    /// sense, a re-read of REPORT TARGET PORT GROUPS). Called on the engine's executor.
    using AccessListener = std::function<void(PathAccess)>;
    void set_access_listener(AccessListener listener) { access_listener_ = std::move(listener); }

    /// Core installs this to learn that an open transport lost its connection on its own,
    /// with no I/O or check of core's involved (the peer reset an idle connection): the path
    /// is down now, not at its next check. Called on the engine's executor from the
    /// transport's own event handlers, never from inside a call core made; is_open() is
    /// already false, and I/O still in flight completes with path_error as usual.
    using LostListener = std::function<void(const std::string& why)>;
    void set_lost_listener(LostListener listener) { lost_listener_ = std::move(listener); }

protected:
    /// Transports call this (never from inside submit()) when the access state changes.
    void report_access(PathAccess access) {
        if (access_listener_) {
            access_listener_(access);
        }
    }

    void report_lost(const std::string& why) {
        if (lost_listener_) {
            lost_listener_(why);
        }
    }

private:
    AccessListener access_listener_;
    LostListener lost_listener_;
};

} // namespace mpiod
