// One client I/O as the engine tracks it, or one leg of a flush fanned out to several paths.
// It sits in at most one list at a time: the in-flight list of the path carrying it, or the
// no-path queue. The engine owns it from submit() until finish().
#pragma once

#include <cstdint>

#include <boost/intrusive/list.hpp>

#include "core/clock.hpp"
#include "core/io_completion.hpp"
#include "core/io_request.hpp"
#include "core/io_result.hpp"

namespace mpiod {

class Path;

struct EngineIo : boost::intrusive::list_base_hook<> {
    IoRequest io;
    IoCompletion done;             // empty for flush legs
    Clock::time_point submitted{}; // when the client submitted it
    Clock::time_point started{};   // start of the current attempt
    Clock::time_point queued{};    // when it last entered the no-path queue
    std::uint32_t attempts = 0;    // attempts started, on any path
    // In-doubt writes (core/in_doubt_writes.hpp).
    bool abandoned = false;  // an attempt left on a hung path: its late end only resolves it
    std::uint64_t doubt = 0; // abandoned write: its in-doubt id (0: a read, nothing in doubt)
    std::uint64_t kept = 0;  // client write kept over an in-doubt range: its sequence number
    bool replay = false;     // a kept write written again after a resolution
    bool own_buffer = false; // a read (block status) sent again after its attempt was
                             // abandoned: it reads into a buffer (extents) of its own, handed
                             // over in IoResult::data (::extents)
    // Flush fan-out (core/flush_fan_out.hpp).
    EngineIo* parent = nullptr;  // leg: the client flush it belongs to
    Path* pinned = nullptr;      // leg: the path it must cover (another if that one died)
    std::uint32_t legs_left = 0; // client flush: legs not yet finished
    IoResult legs_result{};      // client flush: first error of a leg
};

using EngineIoList = boost::intrusive::list<EngineIo>;

} // namespace mpiod
