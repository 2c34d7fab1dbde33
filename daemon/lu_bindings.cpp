// Generated LU names kept in a bindings file; see lu_bindings.hpp.
#include "daemon/lu_bindings.hpp"

#include <algorithm>
#include <cerrno>
#include <optional>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "config/name_rules.hpp"

namespace mpiod {

namespace {

namespace fs = std::filesystem;

constexpr const char* name_prefix = "mpath";

constexpr const char* file_header =
    "# mpiod LU name bindings, the counterpart of multipath-tools' /etc/multipath/bindings.\n"
    "# Maintained by mpiod: an LU with no configured alias is named NAME on the line that\n"
    "# holds its WWID. Edit only while mpiod is stopped.\n"
    "#\n"
    "# Format:\n"
    "# NAME WWID\n"
    "#\n";

std::error_code last_error() {
    return {errno, std::generic_category()};
}

// ENOTDIR: a component of the path is a file, so there is no bindings file either.
bool means_absent(const std::error_code& ec) {
    return ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory;
}

// Closes its descriptor on every path out, so error returns cannot leak one.
class FileDescriptor {
public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    ~FileDescriptor() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;

    int get() const noexcept { return fd_; }
    bool valid() const noexcept { return fd_ >= 0; }
    // close(2) reports delayed write errors on some file systems: they must not be lost.
    std::error_code close() {
        int fd = fd_;
        fd_ = -1;
        return ::close(fd) == 0 ? std::error_code{} : last_error();
    }

private:
    int fd_;
};

// The whole file, or nullopt with `error` set (ENOENT when there is none). POSIX reads so
// that a directory or an I/O error is an error and not an empty file.
std::optional<std::string> read_whole_file(const fs::path& path, std::error_code& error) {
    FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        error = last_error();
        return std::nullopt;
    }
    std::string text;
    char buffer[4096];
    for (;;) {
        auto n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            error = last_error();
            return std::nullopt;
        }
        if (n == 0) {
            return text;
        }
        text.append(buffer, static_cast<std::size_t>(n));
    }
}

std::error_code write_all(int fd, const std::string& text) {
    std::size_t done = 0;
    while (done < text.size()) {
        auto n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return last_error();
        }
        done += static_cast<std::size_t>(n);
    }
    return {};
}

fs::path directory_of(const fs::path& file) {
    return file.has_parent_path() ? file.parent_path() : fs::path(".");
}

// Creates the missing directories leading to `dir`, each with mode 0700: the state
// directory is the daemon's own.
std::error_code make_private_directories(const fs::path& dir) {
    std::vector<fs::path> missing;
    std::error_code ec;
    for (auto p = dir; !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
        missing.push_back(p);
        if (p == p.parent_path()) {
            break;
        }
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
        if (::mkdir(it->c_str(), 0700) != 0 && errno != EEXIST) {
            return last_error();
        }
    }
    return {};
}

// Replaces `file` with `text` so that a crash leaves either the old or the new file, and
// the new one is on disk (data and directory entry) when this returns without error.
std::error_code write_atomically(const fs::path& file, const std::string& text) {
    auto temp = file;
    temp += ".tmp";
    FileDescriptor fd(
        ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.valid()) {
        return last_error();
    }
    std::error_code ec = write_all(fd.get(), text);
    if (!ec && ::fsync(fd.get()) != 0) {
        ec = last_error();
    }
    if (auto closed = fd.close(); !ec) {
        ec = closed;
    }
    if (!ec && ::rename(temp.c_str(), file.c_str()) != 0) {
        ec = last_error();
    }
    if (ec) {
        ::unlink(temp.c_str());
        return ec;
    }
    FileDescriptor dir(::open(directory_of(file).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid() || ::fsync(dir.get()) != 0) {
        return last_error();
    }
    return {};
}

// The words of a bindings line before any '#' comment.
std::vector<std::string> words_of(const std::string& line) {
    constexpr const char* blanks = " \t\r\v\f";
    auto text = line.substr(0, line.find('#'));
    std::vector<std::string> words;
    for (auto start = text.find_first_not_of(blanks); start != std::string::npos;
         start = text.find_first_not_of(blanks, start)) {
        auto end = text.find_first_of(blanks, start);
        words.push_back(text.substr(start, end - start));
        start = end;
    }
    return words;
}

// A name also becomes a socket file and a by-alias link: "." and ".." cannot be either.
bool is_usable_name(const std::string& name) {
    return is_name(name) && name.find_first_not_of('.') != std::string::npos;
}

// A WWID the file can hold: one word, no comment sign, nothing unprintable.
bool is_storable_wwid(const std::string& wwid) {
    return !wwid.empty() && std::all_of(wwid.begin(), wwid.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u > 0x20 && u != 0x7f && c != '#';
    });
}

template <typename Visit>
void for_each_line(const std::string& text, Visit&& visit) {
    std::size_t number = 1;
    for (std::size_t start = 0; start < text.size(); ++number) {
        auto end = text.find('\n', start);
        if (end == std::string::npos) {
            end = text.size();
        }
        visit(text.substr(start, end - start), number);
        start = end + 1;
    }
}

} // namespace

LuBindings::LuBindings(std::filesystem::path file) : file_(std::move(file)) {
    load();
}

std::string LuBindings::generated_name(std::size_t index) {
    // Bijective base 26: after z comes aa, after az comes ba, after zz comes aaa.
    std::string letters;
    for (auto n = index + 1; n > 0; n = (n - 1) / 26) {
        letters.insert(letters.begin(), static_cast<char>('a' + (n - 1) % 26));
    }
    return name_prefix + letters;
}

std::string LuBindings::bound_name(const std::string& wwid) const {
    auto it = name_of_wwid_.find(wwid);
    return it == name_of_wwid_.end() ? std::string{} : it->second;
}

void LuBindings::load() {
    std::error_code ec;
    auto text = read_whole_file(file_, ec);
    if (!text) {
        if (means_absent(ec)) {
            spdlog::debug("bindings file {} does not exist yet", file_.string());
        } else {
            file_usable_ = false;
            spdlog::error("bindings file {}: cannot read: {}; generated LU names are not kept "
                          "this run and may differ from the last one",
                          file_.string(), ec.message());
        }
        return;
    }
    for_each_line(*text,
                  [this](const std::string& line, std::size_t number) { load_line(line, number); });
    spdlog::debug("bindings file {}: {} names", file_.string(), order_.size());
}

void LuBindings::load_line(const std::string& line, std::size_t number) {
    auto words = words_of(line);
    if (words.empty()) {
        return;
    }
    auto where = fmt::format("{}:{}", file_.string(), number);
    if (words.size() != 2) {
        spdlog::warn("{}: expected \"NAME WWID\", found {} word{}; line ignored", where,
                     words.size(), words.size() == 1 ? "" : "s");
        return;
    }
    const auto& name = words[0];
    const auto& wwid = words[1];
    if (!is_usable_name(name)) {
        spdlog::warn("{}: \"{}\" is not a valid name ([A-Za-z0-9_.-]+, not only dots); line "
                     "ignored",
                     where, name);
        return;
    }
    if (auto it = name_of_wwid_.find(wwid); it != name_of_wwid_.end()) {
        if (it->second != name) {
            spdlog::warn("{}: WWID {} is already bound to {} on an earlier line; {} ignored", where,
                         wwid, it->second, name);
            skipped_names_.insert(name);
        }
        return;
    }
    if (auto it = wwid_of_name_.find(name); it != wwid_of_name_.end()) {
        spdlog::warn("{}: name {} is already bound to WWID {} on an earlier line; line ignored",
                     where, name, it->second);
        return;
    }
    name_of_wwid_[wwid] = name;
    wwid_of_name_[name] = wwid;
    order_.emplace_back(name, wwid);
}

std::string LuBindings::first_free_name(const std::set<std::string>& taken) const {
    // Every name in use rules out at most one index, so this ends within their count + 1.
    for (std::size_t i = 0;; ++i) {
        auto name = generated_name(i);
        if (!wwid_of_name_.contains(name) && !skipped_names_.contains(name) &&
            !taken.contains(name)) {
            return name;
        }
    }
}

void LuBindings::unbind(const std::string& wwid) {
    auto name = name_of_wwid_.at(wwid);
    name_of_wwid_.erase(wwid);
    wwid_of_name_.erase(name);
    std::erase(order_, Binding{name, wwid});
    dropped_.emplace_back(name, wwid);
}

std::string LuBindings::name_for(const std::string& wwid, const std::set<std::string>& taken) {
    if (auto it = name_of_wwid_.find(wwid); it != name_of_wwid_.end()) {
        if (!taken.contains(it->second)) {
            return it->second;
        }
        spdlog::warn("bindings file {}: name {} of WWID {} is now taken (configured alias or "
                     "running LU); a new name is bound",
                     file_.string(), it->second, wwid);
        unbind(wwid);
    }
    auto name = first_free_name(taken);
    name_of_wwid_[wwid] = name;
    wwid_of_name_[name] = wwid;
    if (!is_storable_wwid(wwid)) {
        spdlog::error("bindings file {}: WWID \"{}\" has blanks, '#' or control characters; "
                      "its name {} is for this run only",
                      file_.string(), wwid, name);
        return name;
    }
    order_.emplace_back(name, wwid);
    if (!file_usable_) {
        spdlog::error("bindings file {} could not be read at start-up, so it is not written "
                      "either: WWID {} is named {} for this run only",
                      file_.string(), wwid, name);
        return name;
    }
    save();
    return name;
}

void LuBindings::save() {
    std::error_code ec;
    auto current = read_whole_file(file_, ec);
    if (!current && !means_absent(ec)) {
        spdlog::error("bindings file {}: cannot read before writing: {}; new names are for "
                      "this run only",
                      file_.string(), ec.message());
        return;
    }
    // The file as it is now (lines the operator wrote stay, malformed ones included), minus
    // given-up bindings, plus every binding of ours it lacks.
    std::string text = current && !current->empty() ? std::string{} : file_header;
    std::set<Binding> on_disk;
    if (current) {
        for_each_line(*current, [&](const std::string& line, std::size_t) {
            auto words = words_of(line);
            if (words.size() == 2) {
                Binding b{words[0], words[1]};
                if (std::find(dropped_.begin(), dropped_.end(), b) != dropped_.end()) {
                    return;
                }
                on_disk.insert(std::move(b));
            }
            text += line;
            text += '\n';
        });
    }
    for (const auto& b : order_) {
        if (!on_disk.contains(b)) {
            text += b.first + ' ' + b.second + '\n';
        }
    }
    ec = make_private_directories(directory_of(file_));
    if (!ec) {
        ec = write_atomically(file_, text);
    }
    if (ec) {
        spdlog::error("bindings file {}: cannot write: {}; new names are for this run only and "
                      "may change after a restart",
                      file_.string(), ec.message());
        return;
    }
    dropped_.clear();
}

} // namespace mpiod
