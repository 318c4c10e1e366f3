#include "invent_dispatch/input.hpp"

#include <algorithm>
#include <cstring>
#include <unordered_set>

#include <fmt/format.h>
#include <simdjson.h>

namespace invent_dispatch {

namespace {

constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";
constexpr char cr[] = "\r";

unsigned char byte(char c) noexcept {
    return static_cast<unsigned char>(c);
}

// The bytes from first up to last (first <= last).
std::size_t bytes_between(const char* first, const char* last) noexcept {
    return static_cast<std::size_t>(last - first);
}

}   // namespace

csv_reader::csv_reader(input_file file, csv_options options) : file_(std::move(file)), options_(options) {
    const char delimiter = options_.delimiter;
    // A byte of a multi-byte character would cut characters apart.
    if (delimiter == '"' || delimiter == '\n' || delimiter == '\r' || byte(delimiter) >= 0x80)
        throw input_error(file_.display_name() +
                          ": the delimiter must be one ASCII character other than a quote or a line break");
    // The BOM check below needs the first three bytes in one buffer.
    options_.read_size = std::max<std::size_t>(options_.read_size, utf8_bom.size());
    buffer_ = std::make_unique<char[]>(options_.read_size);
    special_[byte(delimiter)] = special_[byte('\n')] = special_[byte('\r')] = true;

    std::size_t size = 0;
    while (size < utf8_bom.size() && !eof_) {
        const auto n = file_.read(buffer_.get() + size, options_.read_size - size);
        eof_ = n == 0;
        size += n;
    }
    pos_ = buffer_.get();
    end_ = pos_ + size;
    if (std::string_view(pos_, bytes_between(pos_, end_)).starts_with(utf8_bom)) pos_ += utf8_bom.size();

    std::uint64_t line = 1;
    std::string problem;
    const auto& name = file_.display_name();
    if (!read_fields(line, problem)) throw input_error(name + ":1: missing header row (the input is empty)");
    const auto fail = [&](const std::string& reason) {
        throw input_error(fmt::format("{}:{}: header: {}", name, line, reason));
    };
    if (!problem.empty()) fail(problem);
    std::unordered_set<std::string_view> seen;
    for (const auto column : fields_) {
        if (column.empty()) fail(fmt::format("column {} has no name", header_.size() + 1));
        if (!simdjson::validate_utf8(column)) fail(fmt::format("column {} is not valid UTF-8", header_.size() + 1));
        if (!seen.insert(column).second) fail(fmt::format("column \"{}\" appears twice", column));
        header_.emplace_back(column);
    }
}

bool csv_reader::fill() {
    if (eof_) return false;
    const auto n = file_.read(buffer_.get(), options_.read_size);
    eof_ = n == 0;
    pos_ = buffer_.get();
    end_ = pos_ + n;
    return !eof_;
}

bool csv_reader::read_fields(std::uint64_t& start_line, std::string& problem) {
    problem.clear();
    fields_.clear();
    copied_ = false;
    if (read_simple_record(start_line)) return true;
    copied_ = true;
    return read_quoted_record(start_line, problem);
}

// The common case, without copying: a record with no quotes whose line ends
// inside the buffer is split where it lies. Blank lines are skipped here too.
bool csv_reader::read_simple_record(std::uint64_t& start_line) {
    for (;;) {
        const auto* newline = static_cast<const char*>(std::memchr(pos_, '\n', bytes_between(pos_, end_)));
        if (!newline) return false;
        const char* line_end = newline;
        if (line_end != pos_ && line_end[-1] == '\r') --line_end;
        if (std::memchr(pos_, '"', bytes_between(pos_, line_end))) return false;
        if (line_end == pos_) {
            ++line_;
            pos_ = newline + 1;
            continue;
        }
        // The state machine applies the length limit, the same way whatever the reads.
        if (bytes_between(pos_, line_end) > options_.max_record) return false;
        start_line = line_++;
        const char delimiter = options_.delimiter;
        for (const char* field = pos_;;) {
            const auto* stop = static_cast<const char*>(std::memchr(field, delimiter, bytes_between(field, line_end)));
            fields_.emplace_back(field, (stop ? stop : line_end) - field);
            if (!stop) break;
            field = stop + 1;
        }
        pos_ = newline + 1;
        return true;
    }
}

// Anything else (quotes, a record across reads, no final newline) goes
// through the RFC 4180 state machine into data_. Bytes are copied as they
// are, so a character split across two reads is whole again in data_.
bool csv_reader::read_quoted_record(std::uint64_t& start_line, std::string& problem) {
    data_.clear();
    ends_.clear();
    // Bytes past max_record are dropped, not kept: a quote left open near the
    // top of a large file must not pull the whole file into memory. A record's
    // length is its field bytes plus its delimiters (quotes not counted), as
    // read_simple_record measures it: a line of a million delimiters is long too.
    bool too_long = false;
    const auto used = [&] { return data_.size() + ends_.size(); };
    const auto keep = [&](const char* first, const char* last) {
        const auto room = options_.max_record - std::min(options_.max_record, used());
        too_long = too_long || bytes_between(first, last) > room;
        data_.append(first, std::min(bytes_between(first, last), room));
    };
    const auto end_field = [&] {   // at a delimiter
        if (used() < options_.max_record)
            ends_.push_back(data_.size());
        else
            too_long = true;
    };
    const auto end_record = [&] {
        ends_.push_back(data_.size());   // the last field always ends, whatever the limit
        if (too_long && problem.empty()) problem = fmt::format("record longer than {} bytes", options_.max_record);
        std::size_t begin = 0;
        for (const auto end : ends_) {
            fields_.emplace_back(data_.data() + begin, end - begin);
            begin = end;
        }
        return true;
    };
    start_line = line_;
    std::uint64_t quote_line = 0;
    bool content = false;   // false while the record is still a blank line
    auto scan = state::field_start;
    for (;;) {
        if (pos_ == end_ && !fill()) break;
        switch (scan) {
        case state::field_start:
            if (*pos_ == '"') {
                ++pos_;
                content = true;
                quote_line = line_;
                scan = state::quoted;
                break;
            }
            scan = state::unquoted;
            [[fallthrough]];
        case state::unquoted: {
            const char* run_end = pos_;
            while (run_end != end_ && !special_[byte(*run_end)]) ++run_end;
            if (run_end != pos_) {
                keep(pos_, run_end);
                content = true;
            }
            pos_ = run_end;
            if (pos_ == end_) break;
            const char c = *pos_++;
            if (c == '\r') {
                scan = state::after_cr;
            } else if (c == '\n') {
                ++line_;
                if (content) return end_record();
                start_line = line_;
                scan = state::field_start;
            } else {   // the delimiter
                end_field();
                content = true;
                scan = state::field_start;
            }
            break;
        }
        case state::after_cr:
            if (*pos_ == '\n') {
                ++pos_;
                ++line_;
                if (content) return end_record();
                start_line = line_;
                scan = state::field_start;
            } else {   // a lone CR inside an unquoted field is text
                keep(cr, cr + 1);
                content = true;
                scan = state::unquoted;
            }
            break;
        case state::quoted: {
            const auto* quote = static_cast<const char*>(std::memchr(pos_, '"', bytes_between(pos_, end_)));
            const char* run_end = quote ? quote : end_;
            line_ += static_cast<std::uint64_t>(std::count(pos_, run_end, '\n'));
            keep(pos_, run_end);
            pos_ = quote ? quote + 1 : end_;
            if (quote) scan = state::quote_in_quoted;
            break;
        }
        case state::quote_in_quoted:
            if (*pos_ == '"') {   // "" is one quote
                keep(pos_, pos_ + 1);
                ++pos_;
                scan = state::quoted;
                break;
            }
            if (!special_[byte(*pos_)] && problem.empty())
                problem = fmt::format("field {}: text after the closing quote", ends_.size() + 1);
            scan = state::unquoted;
            break;
        }
    }
    if (!content) return false;
    if (scan == state::quoted) problem = fmt::format("the quote opened on line {} is never closed", quote_line);
    return end_record();
}

// A record split where it lay in buffer_ keeps its delimiters between the
// fields, so one check over the span covers them all (an ASCII delimiter
// never completes a character). A copied record's fields touch in data_, so
// each is checked alone: "\xD0" and "\x97" must not make a character together.
bool csv_reader::fields_utf8() const noexcept {
    if (!copied_) {
        const auto* first = fields_.front().data();
        const auto& last = fields_.back();
        return simdjson::validate_utf8(first, bytes_between(first, last.data() + last.size()));
    }
    return std::all_of(fields_.begin(), fields_.end(),
                       [](std::string_view field) { return simdjson::validate_utf8(field); });
}

bool csv_reader::next(input_record& out) {
    if (!read_fields(out.line, out.problem)) return false;
    const auto columns = header_.size();
    if (fields_.size() != columns && out.problem.empty())
        out.problem = fmt::format("{} fields where the header has {}", fields_.size(), columns);
    out.names_generation = 1;
    out.valid_utf8 = fields_utf8();
    out.fields.resize(std::min(fields_.size(), columns));
    for (std::size_t i = 0; i < out.fields.size(); ++i) out.fields[i] = {header_[i], fields_[i], value_kind::text};
    return true;
}

}   // namespace invent_dispatch
