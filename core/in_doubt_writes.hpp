// Writes in doubt (see shared reference "in-doubt writes" and README "Data safety"): a write
// whose path hung was sent again on another path, but its first attempt may still land, late,
// over anything written to the same blocks since. The engine keeps the hung connection open
// to learn when that attempt resolves (its late reply, or the connection's death) and, until
// then, keeps every later client write that overlaps it. When it resolves, those later writes
// are written again, in their order, before any new I/O to their range runs.
//
// This class is the bookkeeping only: ranges, kept writes, the memory bound and what to
// replay. The engine (LogicalUnit) submits the replays and holds I/O as it says. Pure: no
// I/O, no clock reads (times are passed in).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/io_request.hpp"
#include "core/path_selector.hpp"

namespace mpiod {

class InDoubtWrites {
public:
    /// `memory_limit`: bytes of later writes kept at most; past it, new overlapping writes
    /// are held until a resolution frees memory.
    explicit InDoubtWrites(std::uint64_t memory_limit) : memory_limit_(memory_limit) {}
    /// A reload may change the bound; writes already kept stay.
    void set_memory_limit(std::uint64_t bytes) noexcept { memory_limit_ = bytes; }

    // ---- the in-doubt attempts ----

    /// A write attempt on `path` became in doubt at `now`; returns its id (never 0).
    /// `attempt`, when given, is the request itself: the copy of it the engine sends again
    /// elsewhere is then known for what it is (open_under_kept ignores it).
    std::uint64_t open(PathId path, std::uint64_t offset, std::uint64_t length,
                       Clock::time_point now, const IoRequest* attempt = nullptr);
    /// The attempt is resolved: it can no longer land. Kept writes that overlap it become
    /// due for replay (take_replay), and its range is blocked until they are written.
    void resolve(std::uint64_t id);
    bool overlaps_open(std::uint64_t offset, std::uint64_t length) const noexcept;
    /// True while an open attempt lies under a kept write: if it lands, it undoes acknowledged
    /// data until the replay, so a flush cannot yet say that data is durable.
    bool open_under_kept() const noexcept;

    // ---- later client writes over an in-doubt range ----

    /// Keeps `write` (write, trim or write-zeroes; the data buffer is shared, not copied)
    /// because it overlaps an open attempt. Returns its sequence number, or nullopt when the
    /// memory bound is reached: the caller holds the write and tries again after a resolution.
    std::optional<std::uint64_t> keep(const IoRequest& write);
    /// The kept write completed to the client: `acked` when it succeeded (it is then
    /// replayed after a resolution under it); a failed one is forgotten.
    void settle(std::uint64_t seq, bool acked);

    // ---- replay ----

    /// The next write to replay, in the order the client's writes were kept; nullopt when
    /// none is due, or when the next one's client write has not completed yet.
    std::optional<IoRequest> take_replay();
    /// The replay taken last was written (ok) or failed; kept writes no open attempt
    /// overlaps any more are released after their last replay.
    void replay_done(bool ok);
    bool replaying() const noexcept { return replay_in_flight_; }
    /// True while I/O to the range must wait: a replay over it is due or running. A kept
    /// write sent again (`kept_seq`, its sequence number) waits only for older kept writes:
    /// its own replay, and those of newer ones, come after it and cannot run before it
    /// completed (take_replay), so waiting for them would wait forever.
    bool blocks(std::uint64_t offset, std::uint64_t length,
                std::uint64_t kept_seq = 0) const noexcept;
    /// True when no replay is due or running (a flush waits for this).
    bool idle() const noexcept { return due_.empty() && !replay_in_flight_; }

    // ---- what the operator sees ----

    struct PathDoubt {
        std::uint64_t writes = 0;   // attempts in doubt on the path
        Clock::time_point oldest{}; // since when the oldest is in doubt
    };
    PathDoubt of_path(PathId path) const noexcept;
    std::uint64_t open_count() const noexcept { return open_.size(); }
    std::uint64_t kept_bytes() const noexcept { return kept_bytes_; }
    std::uint64_t kept_writes() const noexcept { return kept_.size(); }
    std::uint64_t replays() const noexcept { return replays_; }
    std::uint64_t memory_limit() const noexcept { return memory_limit_; }

private:
    struct Attempt {
        std::uint64_t id;
        PathId path;
        std::uint64_t offset;
        std::uint64_t length;
        Clock::time_point since;
        IoOp op = IoOp::write;
        const std::byte* data = nullptr; // the attempt's buffer (shared by its copy sent again)
        bool is_copy(const IoRequest& w) const noexcept;
    };
    struct Kept {
        std::uint64_t seq;
        IoRequest write;
        bool settled = false;
        bool acked = false;
    };
    struct Due {
        std::uint64_t seq;
    };
    Kept* find_kept(std::uint64_t seq) noexcept;
    void release_unneeded();

    std::uint64_t memory_limit_;
    std::uint64_t next_id_ = 1;
    std::uint64_t next_seq_ = 1;
    std::vector<Attempt> open_;
    std::deque<Kept> kept_;                   // in sequence order
    std::deque<Due> due_;                     // replays due, in sequence order
    std::optional<std::uint64_t> replay_seq_; // the replay running
    bool replay_in_flight_ = false;
    std::uint64_t kept_bytes_ = 0;
    std::uint64_t replays_ = 0;
};

} // namespace mpiod
