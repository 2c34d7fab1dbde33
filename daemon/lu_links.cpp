// Per-LU symlinks under the run directory; see lu_links.hpp.
#include "daemon/lu_links.hpp"

#include <cerrno>
#include <system_error>

#include <unistd.h>

#include <spdlog/spdlog.h>

namespace mpiod {

namespace {

namespace fs = std::filesystem;

// Links are made under ".<name>.tmp" first. link_name() never starts a name with '.', so a
// temporary name cannot be an LU's link.
fs::path temp_link(const fs::path& link) {
    return link.parent_path() / ("." + link.filename().string() + ".tmp");
}

std::string errno_text() {
    return std::error_code(errno, std::generic_category()).message();
}

} // namespace

LuLinks::LuLinks(std::filesystem::path run_dir)
    : by_alias_(run_dir / "by-alias"), by_wwid_(run_dir / "by-wwid") {}

std::string LuLinks::link_name(const std::string& text) {
    std::string name;
    for (std::size_t i = 0; i < text.size(); ++i) {
        auto c = static_cast<unsigned char>(text[i]);
        bool plain = c > 0x20 && c < 0x7f && c != '/' && c != '\\' && !(i == 0 && c == '.');
        if (plain) {
            name += static_cast<char>(c);
        } else {
            name += fmt::format("\\x{:02x}", c);
        }
    }
    return name;
}

fs::path LuLinks::alias_link(const std::string& alias) const {
    return by_alias_ / link_name(alias);
}

fs::path LuLinks::wwid_link(const std::string& wwid) const {
    return by_wwid_ / link_name(wwid);
}

void LuLinks::update(const std::string& alias, const std::string& wwid, const std::string& target) {
    if (target.empty()) {
        spdlog::error("lu {}: no device node or socket to link to", alias);
        return;
    }
    place(by_alias_, alias, target);
    place(by_wwid_, wwid, target);
}

void LuLinks::place(const fs::path& dir, const std::string& text, const std::string& target) {
    if (text.empty()) {
        spdlog::error("{}: no link for an empty name (target {})", dir.string(), target);
        return;
    }
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        spdlog::error("{}: cannot create: {}", dir.string(), ec.message());
        return;
    }
    auto link = dir / link_name(text);
    if (auto current = fs::read_symlink(link, ec); !ec && current == target) {
        return;
    }
    auto temp = temp_link(link);
    ::unlink(temp.c_str()); // left by a crash between symlink and rename
    if (::symlink(target.c_str(), temp.c_str()) != 0) {
        spdlog::error("{}: cannot create link: {}", temp.string(), errno_text());
        return;
    }
    if (::rename(temp.c_str(), link.c_str()) != 0) {
        spdlog::error("{}: cannot replace link: {}", link.string(), errno_text());
        ::unlink(temp.c_str());
        return;
    }
    spdlog::debug("{} -> {}", link.string(), target);
}

void LuLinks::remove(const std::string& alias, const std::string& wwid) {
    if (!alias.empty()) {
        unlink(alias_link(alias));
    }
    if (!wwid.empty()) {
        unlink(wwid_link(wwid));
    }
}

void LuLinks::unlink(const fs::path& link) {
    if (::unlink(link.c_str()) != 0 && errno != ENOENT) {
        spdlog::error("{}: cannot remove link: {}", link.string(), errno_text());
        return;
    }
    spdlog::debug("{} removed", link.string());
}

void LuLinks::keep_only(const std::set<std::string>& aliases, const std::set<std::string>& wwids) {
    prune(by_alias_, aliases);
    prune(by_wwid_, wwids);
}

void LuLinks::prune(const fs::path& dir, const std::set<std::string>& texts) {
    std::set<std::string> keep;
    for (const auto& t : texts) {
        keep.insert(link_name(t));
    }
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        // Only symlinks: whatever else an operator put here is not ours to delete.
        std::error_code type_error;
        if (it->is_symlink(type_error) && !keep.contains(it->path().filename().string())) {
            unlink(it->path());
        }
    }
    if (ec && ec != std::errc::no_such_file_or_directory) {
        spdlog::error("{}: cannot list: {}", dir.string(), ec.message());
    }
}

} // namespace mpiod
