// The low-level FUSE callbacks: argument copies in the session thread, everything else on the
// executor. fuse_reply_* may be called from any thread, so replies go out from the executor.
#include "exports/kernel/fuse_operations.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/statvfs.h>

#include <boost/asio/post.hpp>
#include <fuse3/fuse_lowlevel.h>

#include "exports/kernel/ranged_io.hpp"

namespace mpiod {

namespace {

/// Attributes and names never change while a file exists; a removed file vanishes from the
/// kernel's cache within this time.
constexpr double cache_seconds = 1.0;

/// Posts `work(ctx, req, keep)` to the executor; `keep` holds the session until the reply.
/// The work gets its own copy of the context, so it may run after the export is gone.
template <class Work>
void post_work(fuse_req_t req, Work&& work) {
    const auto& shared = *static_cast<const FuseSessionContext*>(fuse_req_userdata(req));
    boost::asio::post(shared.ex, [ctx = shared, req, work = std::forward<Work>(work)]() mutable {
        auto keep = ctx.session;
        work(ctx, req, std::move(keep));
    });
}

void op_init(void* /*userdata*/, fuse_conn_info* conn) {
    // Writes go straight to the target (direct_io), so there is no page cache to write back;
    // larger requests mean fewer round trips through the executor.
    conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
    if ((conn->capable & FUSE_CAP_ASYNC_DIO) != 0) {
        conn->want |= FUSE_CAP_ASYNC_DIO;
    }
    conn->max_write = 1u << 20;
}

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
    post_work(req, [parent, name = std::string(name)](FuseSessionContext& ctx, fuse_req_t r,
                                                      std::shared_ptr<fuse_session>) {
        const FuseFile* f =
            parent == FuseFileTable::root_ino ? ctx.files->find(std::string_view(name)) : nullptr;
        if (f == nullptr) {
            fuse_reply_err(r, ENOENT);
            return;
        }
        fuse_entry_param e{};
        e.ino = f->ino;
        e.generation = 1;
        e.attr = ctx.files->file_attr(*f);
        e.attr_timeout = cache_seconds;
        e.entry_timeout = cache_seconds;
        fuse_reply_entry(r, &e);
    });
}

void reply_attr(FuseSessionContext& ctx, fuse_req_t r, fuse_ino_t ino) {
    if (ino == FuseFileTable::root_ino) {
        auto st = ctx.files->root_attr();
        fuse_reply_attr(r, &st, cache_seconds);
        return;
    }
    const FuseFile* f = ctx.files->find(ino);
    if (f == nullptr) {
        fuse_reply_err(r, ENOENT);
        return;
    }
    auto st = ctx.files->file_attr(*f);
    fuse_reply_attr(r, &st, cache_seconds);
}

void op_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* /*fi*/) {
    post_work(req, [ino](FuseSessionContext& ctx, fuse_req_t r, std::shared_ptr<fuse_session>) {
        reply_attr(ctx, r, ino);
    });
}

void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set,
                fuse_file_info* /*fi*/) {
    auto size = attr->st_size;
    post_work(req, [ino, size, to_set](FuseSessionContext& ctx, fuse_req_t r,
                                       std::shared_ptr<fuse_session>) {
        const FuseFile* f = ctx.files->find(ino);
        // The size is the LU's; ownership and mode are fixed. Time stamps are accepted and
        // ignored so that touch and cp -p do not fail.
        bool size_change = (to_set & FUSE_SET_ATTR_SIZE) != 0 &&
                           (f == nullptr || static_cast<std::uint64_t>(size) != f->info.size_bytes);
        if (size_change ||
            (to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) != 0) {
            fuse_reply_err(r, EPERM);
            return;
        }
        reply_attr(ctx, r, ino);
    });
}

void op_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    fuse_file_info copy = *fi;
    post_work(req, [ino, copy](FuseSessionContext& ctx, fuse_req_t r,
                               std::shared_ptr<fuse_session>) mutable {
        const FuseFile* f = ctx.files->find(ino);
        if (f == nullptr) {
            fuse_reply_err(r, ino == FuseFileTable::root_ino ? EISDIR : ENOENT);
            return;
        }
        if ((copy.flags & O_ACCMODE) != O_RDONLY && f->info.read_only) {
            fuse_reply_err(r, EROFS);
            return;
        }
        // No page cache in between: every read and write reaches the LU (and a loop device
        // on top keeps its own cache), so nothing is cached twice or written back late.
        copy.direct_io = 1;
        copy.keep_cache = 0;
        fuse_reply_open(r, &copy);
    });
}

void op_release(fuse_req_t req, fuse_ino_t /*ino*/, fuse_file_info* /*fi*/) {
    fuse_reply_err(req, 0);
}

void op_flush(fuse_req_t req, fuse_ino_t /*ino*/, fuse_file_info* /*fi*/) {
    fuse_reply_err(req, 0); // close(): nothing is buffered here; fsync makes data durable
}

void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* /*fi*/) {
    post_work(req, [ino, size, off](FuseSessionContext& ctx, fuse_req_t r,
                                    std::shared_ptr<fuse_session> keep) {
        const FuseFile* f = ctx.files->find(ino);
        if (f == nullptr || off < 0) {
            fuse_reply_err(r, f == nullptr ? ENOENT : EINVAL);
            return;
        }
        read_range(ctx.ex, f->target, static_cast<std::uint64_t>(off), size,
                   [r, keep](int error, IoBuffer data, std::size_t skip, std::size_t count) {
                       if (error != 0) {
                           fuse_reply_err(r, error);
                           return;
                       }
                       fuse_reply_buf(r, reinterpret_cast<const char*>(data.get()) + skip, count);
                   });
    });
}

void op_write(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t off,
              fuse_file_info* /*fi*/) {
    // `buf` lives only as long as this call: the data is copied once, into the I/O buffer.
    auto data = make_io_buffer(size);
    std::memcpy(data.get(), buf, size);
    post_work(req, [ino, size, off, data](FuseSessionContext& ctx, fuse_req_t r,
                                          std::shared_ptr<fuse_session> keep) {
        const FuseFile* f = ctx.files->find(ino);
        if (f == nullptr || off < 0) {
            fuse_reply_err(r, f == nullptr ? ENOENT : EINVAL);
            return;
        }
        write_range(ctx.ex, f->target, static_cast<std::uint64_t>(off), size, data,
                    [r, keep](int error, std::size_t written) {
                        if (error != 0) {
                            fuse_reply_err(r, error);
                            return;
                        }
                        fuse_reply_write(r, written);
                    });
    });
}

void op_fsync(fuse_req_t req, fuse_ino_t ino, int /*datasync*/, fuse_file_info* /*fi*/) {
    post_work(
        req, [ino](FuseSessionContext& ctx, fuse_req_t r, std::shared_ptr<fuse_session> keep) {
            const FuseFile* f = ctx.files->find(ino);
            if (f == nullptr) {
                fuse_reply_err(r, ENOENT);
                return;
            }
            flush_target(ctx.ex, f->target, [r, keep](int error) { fuse_reply_err(r, error); });
        });
}

void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t length,
                  fuse_file_info* /*fi*/) {
    post_work(req, [ino, mode, off, length](FuseSessionContext& ctx, fuse_req_t r,
                                            std::shared_ptr<fuse_session> keep) {
        const FuseFile* f = ctx.files->find(ino);
        if (f == nullptr || off < 0 || length <= 0) {
            fuse_reply_err(r, f == nullptr ? ENOENT : EINVAL);
            return;
        }
        auto start = static_cast<std::uint64_t>(off);
        auto count = static_cast<std::uint64_t>(length);
        auto reply = [r, keep](int error) { fuse_reply_err(r, error); };
        if (mode == (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)) {
            // A punched hole must read back as zeroes, which NBD TRIM does not promise;
            // WRITE_ZEROES without NO_HOLE does, and still lets the storage unmap (trim).
            zero_range(ctx.ex, f->target, start, count, true, reply);
        } else if (mode == FALLOC_FL_ZERO_RANGE ||
                   mode == (FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE)) {
            zero_range(ctx.ex, f->target, start, count, false, reply);
        } else if (mode == 0 || mode == FALLOC_FL_KEEP_SIZE) {
            // Preallocation: everything inside the LU already exists; the file cannot grow.
            bool inside = start <= f->info.size_bytes && count <= f->info.size_bytes - start;
            fuse_reply_err(r, inside || mode == FALLOC_FL_KEEP_SIZE ? 0 : EFBIG);
        } else {
            fuse_reply_err(r, EOPNOTSUPP);
        }
    });
}

void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* /*fi*/) {
    post_work(req, [ino, size, off](FuseSessionContext& ctx, fuse_req_t r,
                                    std::shared_ptr<fuse_session>) {
        if (ino != FuseFileTable::root_ino) {
            fuse_reply_err(r, ENOTDIR);
            return;
        }
        struct Entry {
            std::string name;
            struct stat st;
        };
        std::vector<Entry> entries;
        entries.push_back({".", ctx.files->root_attr()});
        entries.push_back({"..", ctx.files->root_attr()});
        for (const auto& [i, f] : ctx.files->files()) {
            entries.push_back({f.name, ctx.files->file_attr(f)});
        }
        std::vector<char> buf(size);
        std::size_t used = 0;
        for (auto i = static_cast<std::size_t>(std::max<off_t>(off, 0)); i < entries.size(); ++i) {
            auto need =
                fuse_add_direntry(r, buf.data() + used, size - used, entries[i].name.c_str(),
                                  &entries[i].st, static_cast<off_t>(i + 1));
            if (need > size - used) {
                break;
            }
            used += need;
        }
        fuse_reply_buf(r, buf.data(), used);
    });
}

void op_statfs(fuse_req_t req, fuse_ino_t /*ino*/) {
    post_work(req, [](FuseSessionContext& ctx, fuse_req_t r, std::shared_ptr<fuse_session>) {
        struct statvfs st {};
        std::uint64_t bytes = 0;
        for (const auto& [i, f] : ctx.files->files()) {
            bytes += f.info.size_bytes;
        }
        st.f_bsize = 4096;
        st.f_frsize = 4096;
        st.f_blocks = bytes / 4096;
        st.f_files = ctx.files->files().size() + 1;
        st.f_namemax = 255;
        fuse_reply_statfs(r, &st);
    });
}

fuse_lowlevel_ops make_operations() {
    fuse_lowlevel_ops ops{};
    ops.init = op_init;
    ops.lookup = op_lookup;
    ops.getattr = op_getattr;
    ops.setattr = op_setattr;
    ops.open = op_open;
    ops.release = op_release;
    ops.flush = op_flush;
    ops.read = op_read;
    ops.write = op_write;
    ops.fsync = op_fsync;
    ops.fallocate = op_fallocate;
    ops.readdir = op_readdir;
    ops.statfs = op_statfs;
    return ops;
}

} // namespace

const fuse_lowlevel_ops& fuse_export_operations() {
    static const fuse_lowlevel_ops ops = make_operations();
    return ops;
}

} // namespace mpiod
