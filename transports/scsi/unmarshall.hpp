// Internal: runs libiscsi's scsi_datain_unmarshall on bytes that came from any transport.
// libiscsi's unmarshallers trust the page's own length fields and copy without bounds
// checks, so callers validate the bytes first; this also pads the copy with zeroes so the
// fixed-offset reads libiscsi does (standard INQUIRY reads up to byte 73) stay inside it.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <type_traits>

#include "transports/scsi/scsi_command.hpp"

struct scsi_task;

namespace mpiod::scsi::detail {

struct TaskDeleter {
    void operator()(scsi_task* t) const noexcept;
};
using TaskPtr = std::unique_ptr<scsi_task, TaskDeleter>;

/// A libiscsi task for `command`'s CDB holding a zero-padded copy of `data` as its data-in
/// (datain.size = data.size()). Throws std::bad_alloc.
TaskPtr task_with_datain(const ScsiCommand& command, std::span<const std::uint8_t> data);

/// scsi_datain_unmarshall(task) cast to T; throws ScsiDataError naming `what` on NULL.
void* unmarshall(scsi_task* task, const char* what);

/// The bits libiscsi stored in an enum-typed field, read as the integer they are: the page
/// may hold values the enum does not name (a qualifier of 5, a code set of 9), and reading
/// such a value as the enum is undefined behaviour (UBSan stops on it).
template <typename Enum>
std::uint32_t raw_field(const Enum& field) noexcept {
    static_assert(std::is_enum_v<Enum>);
    std::underlying_type_t<Enum> value{};
    std::memcpy(&value, &field, sizeof value);
    return static_cast<std::uint32_t>(value);
}

} // namespace mpiod::scsi::detail
