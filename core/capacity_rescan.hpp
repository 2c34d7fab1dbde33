// Capacity rescan (mpiod-ctl resize): the usable paths are reconnected one at a time, each
// reporting its capacity again, while I/O goes on over the others. The LU grows when every
// usable path then reports the same larger size; paths that disagree leave it as it is.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/completion.hpp"
#include "core/control_result.hpp"
#include "core/path.hpp"

namespace mpiod {

/// One rescan in progress: which paths are left to reconnect and who waits for the outcome.
class CapacityRescan {
public:
    CapacityRescan(std::span<const std::unique_ptr<Path>> paths,
                   Completion<ControlResult<std::string>> done);

    /// The next path to reconnect (it becomes current), or nullptr when none is left.
    /// Paths that failed meanwhile are skipped: the checker owns them.
    Path* next();
    /// True when `p` is the path being reconnected: its reconnect just ended.
    bool is_current(const Path& p) const noexcept { return current_ == &p; }
    void current_done() noexcept { current_ = nullptr; }
    /// Hands the outcome to whoever asked.
    void finish(std::string message) { std::move(done_)(ControlResult<std::string>(message)); }

private:
    std::vector<Path*> left_; // usable paths not yet reconnected, in path order
    Path* current_ = nullptr;
    Completion<ControlResult<std::string>> done_;
};

/// What the paths' reported capacities say, once each was reconnected. Pure.
struct CapacityVerdict {
    enum class Kind : std::uint8_t { no_path, disagree, unchanged, grows };
    Kind kind = Kind::unchanged;
    std::uint64_t size = 0; // the agreed size (grows, unchanged)
    std::string sizes;      // "a 123, b 456": every usable path's report
};
CapacityVerdict judge_capacity(std::span<const std::unique_ptr<Path>> paths,
                               std::uint64_t current_size);

} // namespace mpiod
