// Stable names for scripts, fstab and VM definitions: a symlink per LU under the run
// directory, by-alias/<alias> and by-wwid/<wwid>, to the LU's device node or, when it has
// none, its NBD socket. Like /dev/disk/by-id, the links follow the LU, not the device.
#pragma once

#include <filesystem>
#include <set>
#include <string>

namespace mpiod {

class LuLinks {
public:
    explicit LuLinks(std::filesystem::path run_dir);

    /// Creates or replaces both links so they point at `target` (/dev/nbd0, /dev/loop3 or
    /// the socket path). A reader sees the old link or the new one, never none: each is made
    /// under a temporary name and renamed over the old. Errors are logged, never thrown.
    void update(const std::string& alias, const std::string& wwid, const std::string& target);

    /// Removes both links; a link already gone is not an error.
    void remove(const std::string& alias, const std::string& wwid);

    /// Removes every link (and leftover temporary link) that belongs to none of the given
    /// LUs: the ones a previous run left for LUs that no longer exist.
    void keep_only(const std::set<std::string>& aliases, const std::set<std::string>& wwids);

    std::filesystem::path alias_link(const std::string& alias) const;
    std::filesystem::path wwid_link(const std::string& wwid) const;

    /// The file name an alias or WWID gets: '/', '\', blanks, bytes outside printable ASCII
    /// and a leading '.' are written as \xHH (udev's escape, lowercase hex), so "a/b" is
    /// "a\x2fb" and ".." is "\x2e.". Every text maps to its own name.
    static std::string link_name(const std::string& text);

private:
    void place(const std::filesystem::path& dir, const std::string& text,
               const std::string& target);
    void unlink(const std::filesystem::path& link);
    void prune(const std::filesystem::path& dir, const std::set<std::string>& texts);

    std::filesystem::path by_alias_;
    std::filesystem::path by_wwid_;
};

} // namespace mpiod
