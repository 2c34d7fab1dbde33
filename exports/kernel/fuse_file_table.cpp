// The FUSE export's directory: names, inode numbers and attributes.
#include "exports/kernel/fuse_file_table.hpp"

#include <stdexcept>

#include <fmt/format.h>

namespace mpiod {

FuseFileTable::FuseFileTable(uid_t owner, gid_t group)
    : owner_(owner), group_(group), created_(std::time(nullptr)) {}

const FuseFile& FuseFileTable::add(std::shared_ptr<IoTarget> target) {
    const auto& name = target->name();
    if (name.empty() || name == "." || name == ".." || name.size() > 255 ||
        name.find('/') != std::string::npos || name.find('\0') != std::string::npos) {
        throw std::invalid_argument(fmt::format("'{}' cannot be a file name", name));
    }
    if (find(std::string_view(name)) != nullptr) {
        throw std::invalid_argument(fmt::format("a file named '{}' is already exported", name));
    }
    FuseFile f;
    f.ino = next_ino_++;
    f.name = name;
    f.info = target->export_info();
    f.target = std::move(target);
    return files_.emplace(f.ino, std::move(f)).first->second;
}

bool FuseFileTable::remove(std::string_view name) {
    for (auto it = files_.begin(); it != files_.end(); ++it) {
        if (it->second.name == name) {
            files_.erase(it);
            return true;
        }
    }
    return false;
}

const FuseFile* FuseFileTable::refresh(std::string_view name) {
    for (auto& [ino, f] : files_) {
        if (f.name == name) {
            f.info = f.target->export_info();
            return &f;
        }
    }
    return nullptr;
}

const FuseFile* FuseFileTable::find(std::uint64_t ino) const noexcept {
    auto it = files_.find(ino);
    return it == files_.end() ? nullptr : &it->second;
}

const FuseFile* FuseFileTable::find(std::string_view name) const noexcept {
    for (const auto& [ino, f] : files_) {
        if (f.name == name) {
            return &f;
        }
    }
    return nullptr;
}

struct stat FuseFileTable::root_attr() const noexcept {
    struct stat st {};
    st.st_ino = root_ino;
    st.st_mode = S_IFDIR | 0755;
    st.st_nlink = 2;
    st.st_uid = owner_;
    st.st_gid = group_;
    st.st_atime = st.st_mtime = st.st_ctime = created_;
    return st;
}

struct stat FuseFileTable::file_attr(const FuseFile& f) const noexcept {
    struct stat st {};
    st.st_ino = f.ino;
    st.st_mode = S_IFREG | (f.info.read_only ? 0400 : 0600);
    st.st_nlink = 1;
    st.st_uid = owner_;
    st.st_gid = group_;
    st.st_size = static_cast<off_t>(f.info.size_bytes);
    st.st_blksize = static_cast<blksize_t>(f.info.preferred_block);
    st.st_blocks = static_cast<blkcnt_t>((f.info.size_bytes + 511) / 512);
    st.st_atime = st.st_mtime = st.st_ctime = created_;
    return st;
}

} // namespace mpiod
