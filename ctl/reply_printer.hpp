// Reads a control reply line in one pass (nlohmann's SAX parser, no document) and prints
// its `result` as indented JSON on the way: `mpiod-ctl --json list lus` on 512 LUs is a
// 1.3 MB line, and parsing it into a document then dumping that took most of the command's
// time. The output has the layout of nlohmann::json::dump(2), fields in the daemon's order.
#pragma once

#include <string>
#include <string_view>

namespace mpiod::ctl {

struct PrintedReply {
    bool well_formed = false; // valid JSON: an object with a boolean "ok"
    bool ok = false;
    std::string error;  // "error" when !ok
    std::string result; // the result, indented, with a final newline (when ok)
};

PrintedReply print_reply(std::string_view line);

} // namespace mpiod::ctl
