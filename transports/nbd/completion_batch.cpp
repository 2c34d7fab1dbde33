// Batched delivery of I/O completions: posted, or at the end of the current completion round.
#include "transports/nbd/completion_batch.hpp"

#include "core/completion_round.hpp"

namespace mpiod {

void CompletionBatch::add(IoCompletion done, IoResult result) {
    queued_.push_back(Entry{std::move(done), result});
    if (!posted_) {
        posted_ = true;
        CompletionRound::defer(ex_, [self = shared_from_this()] { self->deliver(); });
    }
}

void CompletionBatch::deliver() {
    posted_ = false;
    // A completion may submit more I/O whose results land in queued_ and get a delivery of
    // their own; this one only runs what was queued when it started.
    std::vector<Entry> batch;
    batch.swap(queued_);
    for (Entry& e : batch) {
        std::move(e.done)(e.result);
    }
    batch.clear();
    if (queued_.empty() && queued_.capacity() < batch.capacity()) {
        queued_.swap(batch); // keep the capacity for the next burst
    }
}

} // namespace mpiod
