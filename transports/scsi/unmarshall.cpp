#include "transports/scsi/unmarshall.hpp"

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include <iscsi/scsi-lowlevel.h>

#include "transports/scsi/scsi_data_error.hpp"

namespace mpiod::scsi::detail {

namespace {
constexpr std::size_t padding = 128; // > the largest fixed offset libiscsi reads
}

void TaskDeleter::operator()(scsi_task* t) const noexcept {
    scsi_free_scsi_task(t); // also free()s datain.data
}

TaskPtr task_with_datain(const ScsiCommand& command, std::span<const std::uint8_t> data) {
    ScsiCommand copy = command;
    TaskPtr task(scsi_create_task(copy.cdb_length, copy.cdb.data(), SCSI_XFER_READ,
                                  static_cast<int>(copy.transfer_length)));
    if (!task) {
        throw std::bad_alloc();
    }
    // scsi_free_scsi_task releases datain.data with free(): allocate it with calloc.
    auto* buf = static_cast<unsigned char*>(std::calloc(data.size() + padding, 1));
    if (buf == nullptr) {
        throw std::bad_alloc();
    }
    if (!data.empty()) {
        std::memcpy(buf, data.data(), data.size());
    }
    task->datain.data = buf;
    task->datain.size = static_cast<int>(data.size());
    return task;
}

void* unmarshall(scsi_task* task, const char* what) {
    void* out = scsi_datain_unmarshall(task);
    if (out == nullptr) {
        throw ScsiDataError(std::string(what) + ": libiscsi could not decode the data");
    }
    return out;
}

} // namespace mpiod::scsi::detail
