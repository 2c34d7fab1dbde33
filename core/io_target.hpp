// What an export needs from the core: the geometry it advertises and a way to submit
// I/O. LogicalUnit implements it; export tests may use a simpler implementation.
#pragma once

#include <cstdint>
#include <string>

#include "core/capabilities.hpp"
#include "core/io_completion.hpp"
#include "core/io_request.hpp"

namespace mpiod {

/// What an export advertises for its target: the size and the target's capabilities.
struct ExportInfo : Capabilities {
    std::uint64_t size_bytes = 0;
};

class IoTarget {
public:
    virtual ~IoTarget() = default;

    /// The name clients use to select this target (the LU's alias).
    virtual const std::string& name() const noexcept = 0;
    /// Valid once the target is ready to be exported; constant afterwards.
    virtual ExportInfo export_info() const = 0;
    /// Requests must be in bounds and honour export_info(); exports validate first.
    /// `done` runs exactly once, on the target's executor.
    virtual void submit(IoRequest request, IoCompletion done) = 0;
};

} // namespace mpiod
