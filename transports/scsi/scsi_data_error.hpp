// The one error type of the SCSI data parsers: a page or response that is truncated,
// malformed or not what was asked for. Its message names the page and what is wrong.
#pragma once

#include <stdexcept>
#include <string>

namespace mpiod::scsi {

class ScsiDataError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

} // namespace mpiod::scsi
