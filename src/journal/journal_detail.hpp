#pragma once
// What the journal's writer and loader share: the first line (the writer
// writes it, the loader checks it and recognises a torn copy of it) and how
// a failed system call becomes a journal_error.
#include <cstring>
#include <string>
#include <string_view>

#include "invent_dispatch/journal.hpp"
#include "invent_dispatch/json_text.hpp"

namespace invent_dispatch::detail {

constexpr std::string_view journal_name = "invent-dispatch";
constexpr std::uint64_t journal_version = 1;

inline std::string journal_header_line(std::string_view input_identity) {
    std::string line = R"({"journal":"invent-dispatch","version":1,"input":)";
    append_json_string(line, input_identity);
    line += "}\n";
    return line;
}

[[noreturn]] inline void throw_system_error(const std::string& path, std::string_view what,
                                            int error) {
    throw journal_error(path + ": " + std::string(what) + ": " + std::strerror(error));
}

} // namespace invent_dispatch::detail
