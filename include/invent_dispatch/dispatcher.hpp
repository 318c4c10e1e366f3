#pragma once
// `invent-dispatch run`: wires reader -> admission -> scheduler -> connections
// -> response parser -> journal and report, on one io_context.
#include <iosfwd>
#include <string>

#include "invent_dispatch/dispatch_config.hpp"
#include "invent_dispatch/journal_records.hpp"

namespace invent_dispatch {

// SPEC §7.
enum exit_status : int {
    exit_ok = 0,
    exit_rows_not_created = 1,
    exit_usage = 2,
    exit_aborted = 3,
    exit_sigint = 130,
    exit_sigterm = 143,
};

struct dispatch_context {
    std::ostream* out = nullptr;   // summary and progress (stderr)
    bool terminal = false;   // out is a terminal: a live progress line
    journal_write_call journal_write;   // empty: writev(2); tests inject failures here
};

// Runs the batch to its end (or a stop) and returns the exit status.
// Throws usage_error / input_error / journal_error for problems found before
// anything was sent.
int run_dispatch(const dispatch_config& config, const dispatch_context& context);

}   // namespace invent_dispatch
