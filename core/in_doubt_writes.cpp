// In-doubt write bookkeeping: ranges, kept writes, replays.
#include "core/in_doubt_writes.hpp"

#include <algorithm>

namespace mpiod {

namespace {

bool overlap(std::uint64_t a_off, std::uint64_t a_len, std::uint64_t b_off,
             std::uint64_t b_len) noexcept {
    return a_off < b_off + b_len && b_off < a_off + a_len;
}

} // namespace

std::uint64_t InDoubtWrites::open(PathId path, std::uint64_t offset, std::uint64_t length,
                                  Clock::time_point now, const IoRequest* attempt) {
    const auto id = next_id_++;
    Attempt a{id, path, offset, length, now};
    if (attempt != nullptr) {
        a.op = attempt->op;
        a.data = attempt->data.get();
    }
    open_.push_back(a);
    return id;
}

bool InDoubtWrites::Attempt::is_copy(const IoRequest& w) const noexcept {
    // The same request sent again: same range and kind, and for a write the same buffer.
    return w.op == op && w.offset == offset && w.length == length && w.data.get() == data;
}

bool InDoubtWrites::overlaps_open(std::uint64_t offset, std::uint64_t length) const noexcept {
    return std::any_of(open_.begin(), open_.end(), [&](const Attempt& a) {
        return overlap(a.offset, a.length, offset, length);
    });
}

bool InDoubtWrites::open_under_kept() const noexcept {
    return std::any_of(open_.begin(), open_.end(), [&](const Attempt& a) {
        return std::any_of(kept_.begin(), kept_.end(), [&](const Kept& k) {
            // The attempt's own copy sent again writes what it would write: nothing undone.
            return overlap(a.offset, a.length, k.write.offset, k.write.length) &&
                   !a.is_copy(k.write);
        });
    });
}

void InDoubtWrites::resolve(std::uint64_t id) {
    auto it =
        std::find_if(open_.begin(), open_.end(), [&](const Attempt& a) { return a.id == id; });
    if (it == open_.end()) {
        return;
    }
    const Attempt done = *it;
    open_.erase(it);
    // Every kept write over the attempt may have been overwritten by it: write it again. Its
    // place in sequence order is kept, so that overlapping kept writes replay oldest first.
    for (const Kept& k : kept_) {
        if (!overlap(done.offset, done.length, k.write.offset, k.write.length) ||
            (k.settled && !k.acked)) {
            continue;
        }
        const bool already =
            std::any_of(due_.begin(), due_.end(), [&](const Due& d) { return d.seq == k.seq; });
        if (!already) {
            auto pos =
                std::find_if(due_.begin(), due_.end(), [&](const Due& d) { return d.seq > k.seq; });
            due_.insert(pos, Due{k.seq});
        }
    }
    release_unneeded();
}

std::optional<std::uint64_t> InDoubtWrites::keep(const IoRequest& write) {
    if (kept_bytes_ + write.length > memory_limit_) {
        return std::nullopt;
    }
    const auto seq = next_seq_++;
    kept_.push_back(Kept{seq, write});
    kept_bytes_ += write.length;
    return seq;
}

void InDoubtWrites::settle(std::uint64_t seq, bool acked) {
    if (Kept* k = find_kept(seq)) {
        k->settled = true;
        k->acked = acked;
        if (!acked) {
            std::erase_if(due_, [&](const Due& d) { return d.seq == seq; });
        }
    }
    release_unneeded();
}

std::optional<IoRequest> InDoubtWrites::take_replay() {
    if (replay_in_flight_ || due_.empty()) {
        return std::nullopt;
    }
    const Kept* k = find_kept(due_.front().seq);
    if (k == nullptr || !k->settled) {
        return std::nullopt; // the client's write is still in flight: its order is not known yet
    }
    replay_seq_ = k->seq;
    replay_in_flight_ = true;
    due_.pop_front();
    ++replays_;
    IoRequest r = k->write;
    r.fua = false; // a flush after the replays makes them durable (the engine sends one)
    return r;
}

void InDoubtWrites::replay_done(bool ok) {
    if (!ok && replay_seq_) {
        // Not written: due again, first in line.
        due_.push_front(Due{*replay_seq_});
    }
    replay_in_flight_ = false;
    replay_seq_.reset();
    release_unneeded();
}

bool InDoubtWrites::blocks(std::uint64_t offset, std::uint64_t length,
                           std::uint64_t kept_seq) const noexcept {
    auto covers = [&](std::uint64_t seq) {
        if (kept_seq != 0 && seq >= kept_seq) {
            return false;
        }
        for (const Kept& k : kept_) {
            if (k.seq == seq) {
                return overlap(k.write.offset, k.write.length, offset, length);
            }
        }
        return false;
    };
    if (replay_seq_ && covers(*replay_seq_)) {
        return true;
    }
    return std::any_of(due_.begin(), due_.end(), [&](const Due& d) { return covers(d.seq); });
}

InDoubtWrites::PathDoubt InDoubtWrites::of_path(PathId path) const noexcept {
    PathDoubt d;
    for (const Attempt& a : open_) {
        if (a.path != path) {
            continue;
        }
        if (d.writes == 0 || a.since < d.oldest) {
            d.oldest = a.since;
        }
        ++d.writes;
    }
    return d;
}

InDoubtWrites::Kept* InDoubtWrites::find_kept(std::uint64_t seq) noexcept {
    for (Kept& k : kept_) {
        if (k.seq == seq) {
            return &k;
        }
    }
    return nullptr;
}

void InDoubtWrites::release_unneeded() {
    std::erase_if(kept_, [&](const Kept& k) {
        if (!k.settled) {
            return false; // its client write is still in flight
        }
        const bool due =
            std::any_of(due_.begin(), due_.end(), [&](const Due& d) { return d.seq == k.seq; });
        const bool needed = k.acked && (due || replay_seq_ == k.seq ||
                                        overlaps_open(k.write.offset, k.write.length));
        if (!needed) {
            kept_bytes_ -= k.write.length;
        }
        return !needed;
    });
}

} // namespace mpiod
