#pragma once
// What the journal's parts share: the first line (the writer writes it, the
// loader checks it and recognises a torn copy of it), the event records'
// formats, and how a failed system call becomes a journal_error.
#include <cstring>
#include <string>
#include <string_view>

#include "invent_dispatch/journal_records.hpp"
#include "invent_dispatch/json_text.hpp"

namespace invent_dispatch::detail {

constexpr std::string_view journal_name = "invent-dispatch";
constexpr std::uint64_t journal_version = 1;
// Every event record starts so; no row record does (they start with "line").
constexpr std::string_view event_prefix = R"({"event":)";

std::string journal_header_line(std::string_view input_identity, const std::optional<input_fingerprint>& content);

void append_run_start_record(std::string& out, const run_start_event& event, std::string_view at);
void append_run_end_record(std::string& out, int exit_code, std::string_view at);
void append_pause_record(std::string& out, int http_status, std::string_view until, std::string_view at);

[[noreturn]] inline void throw_system_error(const std::string& path, std::string_view what, int error) {
    throw journal_error(path + ": " + std::string(what) + ": " + std::strerror(error));
}

}   // namespace invent_dispatch::detail
