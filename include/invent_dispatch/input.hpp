#pragma once
// Reader stage: bytes -> records with physical line numbers, for CSV/TSV
// (RFC 4180) and JSONL. Readers stream through a fixed buffer, so memory does
// not grow with the number of rows; a record's views die with the next call.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "invent_dispatch/errors.hpp"
#include "invent_dispatch/unique_fd.hpp"

namespace invent_dispatch {

// What a value was in the input. CSV only has text; JSONL values that are
// not strings or numbers are reported, not converted, so the row builder can
// reject them where they matter (a known field, a template variable).
enum class value_kind : std::uint8_t { text, number, object, array, boolean, null };

std::string_view to_string(value_kind kind) noexcept;

struct input_field {
    std::string_view name;
    std::string_view value;   // text, or a number as written; empty for other kinds
    value_kind kind = value_kind::text;
};

struct input_record {
    std::uint64_t line = 0;   // physical line where the record starts (1-based)
    std::vector<input_field> fields;
    // Changes whenever the field names may differ from the previous record's
    // (every JSONL line; never between CSV rows): consumers cache per-name work.
    std::uint64_t names_generation = 0;
    // Every value is already known to be valid UTF-8 (checked in one pass over
    // the record), so consumers need not check value by value.
    bool valid_utf8 = false;
    std::string problem;   // non-empty: the record is unusable, and why
};

// An input opened for streaming: a file, or standard input for "-".
class input_file {
public:
    explicit input_file(const std::string& path);   // throws input_error
    input_file(input_file&& other) noexcept = default;
    input_file& operator=(input_file&&) = delete;

    // Up to size bytes; 0 only at the end. Throws input_error on a read error.
    std::size_t read(char* dest, std::size_t size);
    const std::string& display_name() const noexcept { return name_; }

private:
    unique_fd owned_;   // the file it opened; none for standard input
    int fd_ = -1;   // what it reads: owned_, or STDIN_FILENO
    std::string name_;
};

class record_reader {
public:
    virtual ~record_reader() = default;
    // The next record, valid or not; false at the end. Throws input_error.
    virtual bool next(input_record& out) = 0;
};

inline constexpr std::size_t default_read_size = 64 * 1024;

inline constexpr std::size_t default_max_record = 1024 * 1024;

struct csv_options {
    char delimiter = ',';
    std::size_t read_size = default_read_size;   // injectable so tests can split characters
    std::size_t max_record = default_max_record;   // longer records are invalid, and not kept
};

// RFC 4180 with the usual leniencies: LF or CRLF, an optional UTF-8 BOM, no
// final newline, blank lines skipped, a quote inside an unquoted field kept
// as text. Problems with one record (field count, text after a closing quote,
// a quote left open at the end, over max_record bytes) go into
// input_record::problem.
class csv_reader final : public record_reader {
public:
    // Reads and checks the header; throws input_error for a missing header,
    // or a duplicate, empty or non-UTF-8 column name.
    csv_reader(input_file file, csv_options options);
    bool next(input_record& out) override;
    const std::vector<std::string>& header() const noexcept { return header_; }

private:
    enum class state : std::uint8_t { field_start, unquoted, quoted, quote_in_quoted, after_cr };

    bool fill();
    bool read_fields(std::uint64_t& start_line, std::string& problem);
    bool read_simple_record(std::uint64_t& start_line);
    bool read_quoted_record(std::uint64_t& start_line, std::string& problem);
    bool fields_utf8() const noexcept;

    input_file file_;
    csv_options options_;
    std::unique_ptr<char[]> buffer_;
    const char* pos_ = nullptr;
    const char* end_ = nullptr;
    bool eof_ = false;
    std::uint64_t line_ = 1;   // physical line of the byte at pos_
    bool special_[256] = {};   // bytes that stop an unquoted run
    std::vector<std::string> header_;
    std::vector<std::string_view> fields_;   // the current record: into buffer_ or data_
    std::string data_;   // a record that needed copying, field bytes back to back
    std::vector<std::size_t> ends_;   // where each field ends in data_
    bool copied_ = false;   // fields_ point into data_, not buffer_
};

struct jsonl_options {
    std::size_t read_size = default_read_size;
    std::size_t max_line = default_max_record;   // longer lines are invalid records, skipped
};

// One JSON object per line (simdjson On-Demand); blank lines skipped. Field
// names and string values are unescaped; numbers are kept as written.
class jsonl_reader final : public record_reader {
public:
    jsonl_reader(input_file file, jsonl_options options);
    ~jsonl_reader() override;
    bool next(input_record& out) override;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// RFC 8259 number grammar. Numbers travel as text, as written: ids of any
// size, and timestamps that go into the body unchanged.
bool is_json_number(std::string_view text) noexcept;

// Cheap counts for progress: CSV records after the header (quoted as the
// reader quotes, with the same delimiter), JSONL non-blank lines.
std::uint64_t count_csv_records(input_file& file, char delimiter);
std::uint64_t count_jsonl_records(input_file& file);

}   // namespace invent_dispatch
