// The files of the FUSE export: one regular file per IoTarget in a flat root directory, with
// the attributes the kernel is shown for each.
#pragma once

#include <cstdint>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <sys/stat.h>

#include "core/io_target.hpp"

namespace mpiod {

struct FuseFile {
    std::uint64_t ino = 0;
    std::string name;
    std::shared_ptr<IoTarget> target;
    ExportInfo info; // read when added, and again by refresh() when the LU grew
};

/// Used on the executor only. Inode numbers are never reused within one mount.
class FuseFileTable {
public:
    static constexpr std::uint64_t root_ino = 1;

    explicit FuseFileTable(uid_t owner = 0, gid_t group = 0);

    /// Adds a file named after the target. Throws std::invalid_argument for a name that is
    /// not a plain file name or that is taken.
    const FuseFile& add(std::shared_ptr<IoTarget> target);
    /// Returns false when there is no such file.
    bool remove(std::string_view name);

    /// Re-reads the target's geometry (its size grew); nullptr when there is no such file.
    const FuseFile* refresh(std::string_view name);

    const FuseFile* find(std::uint64_t ino) const noexcept;
    const FuseFile* find(std::string_view name) const noexcept;
    const std::map<std::uint64_t, FuseFile>& files() const noexcept { return files_; }

    struct stat root_attr() const noexcept;
    /// Mode 0600 (0400 read-only), size of the target, st_blksize its preferred block.
    struct stat file_attr(const FuseFile& f) const noexcept;

private:
    std::map<std::uint64_t, FuseFile> files_;
    std::uint64_t next_ino_ = root_ino + 1;
    uid_t owner_;
    gid_t group_;
    std::time_t created_;
};

} // namespace mpiod
