#pragma once
// The journal's first line, shared by the writer (which writes it) and the
// loader (which checks it, and recognises a torn copy of it).
#include <string>
#include <string_view>

#include "invent_dispatch/journal.hpp"

namespace invent_dispatch::detail {

constexpr std::string_view journal_name = "invent-dispatch";
constexpr std::uint64_t journal_version = 1;

inline std::string journal_header_line(std::string_view input_identity) {
    std::string line = R"({"journal":"invent-dispatch","version":1,"input":)";
    append_json_string(line, input_identity);
    line += "}\n";
    return line;
}

} // namespace invent_dispatch::detail
