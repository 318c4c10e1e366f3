#pragma once
// Input stage: reader (bytes -> records with physical line numbers) and row
// builder (mapping, defaults, templates, validation -> chat_request).
// The dispatcher sees only row_source; readers and the builder have their own
// headers (input.hpp, row_builder.hpp) for tests and validate.
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "invent_dispatch/chat_request.hpp"
#include "invent_dispatch/errors.hpp"

namespace invent_dispatch {

enum class input_format { csv, tsv, jsonl };

struct input_config {
    std::string path;   // a file, or "-" for standard input
    std::optional<input_format> format;   // else from the extension
    std::optional<char> delimiter;   // CSV/TSV: overrides ',' / '\t'
    // known field -> the column that holds it (--map contact_id=ContactID)
    std::vector<std::pair<std::string, std::string>> field_map;
};

// Defaults for rows that leave a field empty. title and message are templates:
// {{column}} is replaced by that column of the row.
struct row_defaults {
    std::string org_id = "c";
    std::string assistant_id;
    std::string title;
    std::string message;
};

struct built_row {
    bool valid = false;
    // valid: complete. invalid: line, and the ids and key when they could be read.
    chat_request request;
    std::string reason;   // invalid: why, in words a user can act on
};

class row_source {
public:
    virtual ~row_source() = default;
    // Next row, valid or not; false at the end. Throws input_error.
    // Reuses out's storage: steady state allocates nothing new per row.
    virtual bool next(built_row& out) = 0;
    // The name used in messages ("contacts.csv", "<stdin>").
    virtual const std::string& display_name() const = 0;
};

// Throws input_error when the input cannot be opened or its header is bad.
std::unique_ptr<row_source> open_rows(const input_config& input, const row_defaults& defaults);

// Rows in the input, by a cheap pass, for progress (done/total); nullopt for stdin.
std::optional<std::uint64_t> count_rows(const input_config& input);

// `invent-dispatch validate`: reads everything, sends nothing; prints counts
// and the first 20 problems as "file:line: reason". Returns the exit code
// (0 clean, 1 some row invalid); throws input_error for a fatal problem.
int validate_input(const input_config& input, const row_defaults& defaults, std::ostream& out);

// `run --strict`: validate_input's pass before anything is sent, with the same
// report. Standard input is first copied into an unlinked temporary file put
// in its place and rewound after the pass, so the run reads it again.
// Throws input_error when the copy fails.
int check_whole_input(const input_config& input, const row_defaults& defaults, std::ostream& out);

}   // namespace invent_dispatch
