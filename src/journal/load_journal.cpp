// Reading a journal back for resume (SPEC §4). It runs once at start-up over
// files of millions of lines, so it reads big chunks and parses each line in
// place with simdjson, touching only the fields resume needs.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <simdjson.h>
#include <unordered_map>

#include "invent_dispatch/encoding.hpp"
#include "invent_dispatch/journal_records.hpp"
#include "journal_detail.hpp"

namespace invent_dispatch {
namespace {

namespace ondemand = simdjson::ondemand;

constexpr std::size_t chunk_size = 8 << 20;

// The part of a record that resume needs.
struct record_fields {
    std::uint64_t line = 0;
    std::string_view key;   // lives until the parser's next iterate
    outcome result = outcome::failed;
};

bool is_blank(std::string_view text) noexcept {
    return text.find_first_not_of(" \t\r") == std::string_view::npos;
}

// simdjson reads lazily and stops after the fields we ask for, so it cannot
// tell a line cut right after them; a whole record ends with its brace.
bool ends_with_brace(std::string_view text) noexcept {
    const auto last = text.find_last_not_of(" \t\r");
    return last != std::string_view::npos && text[last] == '}';
}

// A line with the capacity simdjson may read past its end (the rest of the
// chunk buffer, which keeps SIMDJSON_PADDING spare bytes at its end).
struct padded_line {
    std::string_view text;
    std::size_t capacity;
};

class journal_scanner {
public:
    journal_scanner(const journal_options& options, resume_state& state) : options_(options), state_(state) {}

    // One '\n'-terminated line (without its '\n') starting at file offset `offset`.
    void whole_line(padded_line line, std::uint64_t offset);
    // The bytes after the last '\n' (maybe none); then the file's length to keep.
    std::uint64_t finish(std::string_view tail, std::uint64_t offset);

private:
    void read_header(padded_line line);
    bool is_event(padded_line line);
    std::optional<record_fields> parse_record(padded_line line);
    void apply(const record_fields& record);
    [[noreturn]] void not_a_record(std::uint64_t line_number) const;

    // A row: one line of input with its key. Two rows of one key can both
    // be in flight only with --allow-duplicates; pairing by row keeps them apart.
    static std::uint64_t row_id(std::uint64_t line, key_digest key) noexcept {
        return key.value() ^ (line * 0x9e3779b97f4a7c15ULL);
    }

    const journal_options& options_;
    resume_state& state_;
    ondemand::parser parser_;
    std::uint64_t line_number_ = 0;
    bool header_seen_ = false;
    std::uint64_t kept_length_ = 0;   // end of the last good line
    // An unparsable whole line is a torn last line if nothing follows it.
    std::optional<std::uint64_t> suspect_line_;
    std::unordered_map<std::uint64_t, dangling_send> in_flight_;
};

void journal_scanner::not_a_record(std::uint64_t line_number) const {
    throw journal_error(options_.path + ":" + std::to_string(line_number) + ": not an invent-dispatch journal record");
}

void journal_scanner::whole_line(padded_line line, std::uint64_t offset) {
    ++line_number_;
    if (suspect_line_) {
        if (is_blank(line.text)) return;
        not_a_record(*suspect_line_);
    }
    const auto end = offset + line.text.size() + 1;
    if (is_blank(line.text)) {
        kept_length_ = end;
        return;
    }
    if (!header_seen_) {
        read_header(line);
        kept_length_ = end;
        return;
    }
    if (line.text.starts_with(detail::event_prefix)) {
        // Events (run_start, run_end, pause) say nothing about rows.
        if (!is_event(line)) {
            suspect_line_ = line_number_;
            return;
        }
        kept_length_ = end;
        return;
    }
    const auto record = parse_record(line);
    if (!record) {
        suspect_line_ = line_number_;
        return;
    }
    apply(*record);
    ++state_.records;
    kept_length_ = end;
}

void journal_scanner::read_header(padded_line line) {
    // A whole first line that is not our header is someone else's file: refuse
    // it rather than "repair" it.
    ondemand::document doc;
    ondemand::object header;
    std::string_view name, input;
    std::uint64_t version = 0;
    if (!ends_with_brace(line.text) || parser_.iterate(line.text, line.capacity).get(doc) ||
        doc.get_object().get(header) || header.find_field_unordered("journal").get_string().get(name) ||
        name != detail::journal_name)
        not_a_record(line_number_);
    if (header.find_field_unordered("version").get_uint64().get(version) || version != detail::journal_version)
        throw journal_error(options_.path + ": journal version " + std::to_string(version) +
                            " is not supported (this build reads version " + std::to_string(detail::journal_version) +
                            ")");
    if (header.find_field_unordered("input").get_string().get(input)) not_a_record(line_number_);
    // Compared as the writer wrote them: it may have replaced invalid UTF-8
    // in the identity (a file name, say), and does the same to `input`.
    std::string written, ours;
    append_json_string(written, input);
    append_json_string(ours, options_.input_identity);
    header_seen_ = true;
    if (written == ours) return;

    // Another path: the same input moved (another folder, mount or host) if
    // its content matches.
    std::optional<input_fingerprint> recorded;
    input_fingerprint fingerprint;
    std::string_view digest;
    if (!header.find_field_unordered("input_size").get_uint64().get(fingerprint.size) &&
        !header.find_field_unordered("input_digest").get_string().get(digest)) {
        fingerprint.digest = digest;
        recorded = std::move(fingerprint);
    }
    if (recorded && recorded == options_.input_content) {
        state_.moved_from = input;
        return;
    }
    std::string why;
    if (!recorded)
        why = " (it records no content fingerprint to recognise a moved input by)";
    else if (options_.input_content)
        why = " (nor does the content match: " + std::to_string(recorded->size) + " bytes, SHA-256 of the first MiB " +
              recorded->digest.substr(0, 12) + "... there; " + std::to_string(options_.input_content->size) +
              " bytes, " + options_.input_content->digest.substr(0, 12) + "... here)";
    throw journal_error(options_.path + ": this journal belongs to input " + std::string(input) + ", not " +
                        options_.input_identity + why + "; run it with that input, or give this run another --results");
}

bool journal_scanner::is_event(padded_line line) {
    ondemand::document doc;
    ondemand::object object;
    std::string_view name;
    return line.text.starts_with(detail::event_prefix) && ends_with_brace(line.text) &&
           !parser_.iterate(line.text, line.capacity).get(doc) && !doc.get_object().get(object) &&
           !object.find_field("event").get_string().get(name);
}

std::optional<record_fields> journal_scanner::parse_record(padded_line line) {
    record_fields record;
    ondemand::document doc;
    ondemand::object object;
    ondemand::value key;
    bool key_is_null = false;
    std::string_view outcome_name;
    // line and key lead every record; outcome comes later in final records.
    // An invalid row may have no key (null).
    if (!ends_with_brace(line.text) || parser_.iterate(line.text, line.capacity).get(doc) ||
        doc.get_object().get(object) || object.find_field("line").get_uint64().get(record.line) ||
        object.find_field("key").get(key) || key.is_null().get(key_is_null) ||
        (!key_is_null && key.get_string().get(record.key)) ||
        object.find_field_unordered("outcome").get_string().get(outcome_name))
        return std::nullopt;
    const auto parsed = parse_outcome(outcome_name);
    if (!parsed) return std::nullopt;
    record.result = *parsed;
    return record;
}

void journal_scanner::apply(const record_fields& record) {
    const key_digest key(record.key);
    const auto row = row_id(record.line, key);
    switch (record.result) {
    case outcome::sending:
        in_flight_.insert_or_assign(row, dangling_send{record.line, std::string(record.key), {}, {}, {}});
        return;
    case outcome::created:
        // Nothing after this un-creates the chat: created stays.
        state_.created.insert(key);
        state_.unknown.erase(key);
        break;
    case outcome::unknown: state_.unknown.insert(key); break;
    case outcome::failed:
        // A definite answer (after --retry-unknown) replaces an earlier unknown.
        state_.unknown.erase(key);
        break;
    case outcome::invalid:
    case outcome::skipped:
        // Nothing was sent for this row, so it says nothing about the key: a
        // skipped duplicate of a created key must not make the next run send it.
        break;
    }
    in_flight_.erase(row);
}

std::uint64_t journal_scanner::finish(std::string_view tail, std::uint64_t offset) {
    if (!tail.empty()) {
        ++line_number_;
        if (suspect_line_) not_a_record(*suspect_line_);   // not the last line after all
        // A torn first line must be a piece of our own header, or the file
        // is not a journal at all.
        if (!header_seen_ &&
            !detail::journal_header_line(options_.input_identity, options_.input_content).starts_with(tail))
            not_a_record(line_number_);
    }
    for (auto& [row, send] : in_flight_) {
        state_.unknown.insert(send.key);
        split_chat_key(send.key, send.org_id, send.contact_id, send.channel_id);
        state_.dangling.push_back(std::move(send));
    }
    std::sort(state_.dangling.begin(), state_.dangling.end(),
              [](const auto& a, const auto& b) { return a.line < b.line; });
    const auto file_length = offset + tail.size();
    state_.repaired_torn_line = kept_length_ != file_length;
    return kept_length_;
}

}   // namespace

resume_state load_journal(journal_file& file, const journal_options& options) {
    resume_state state;
    journal_scanner scanner(options, state);

    // [0, filled) holds unscanned bytes starting at file offset `offset`;
    // SIMDJSON_PADDING spare bytes stay past the readable area.
    std::size_t readable = chunk_size;
    auto buffer = std::make_unique_for_overwrite<char[]>(readable + simdjson::SIMDJSON_PADDING);
    std::size_t filled = 0;
    std::uint64_t offset = 0;
    while (true) {
        if (filled == readable) {
            // One line longer than the buffer: make room for it.
            auto bigger = std::make_unique_for_overwrite<char[]>(2 * readable + simdjson::SIMDJSON_PADDING);
            std::memcpy(bigger.get(), buffer.get(), filled);
            buffer = std::move(bigger);
            readable *= 2;
        }
        const auto n =
            ::pread(file.fd(), buffer.get() + filled, readable - filled, static_cast<off_t>(offset + filled));
        if (n < 0) {
            if (errno == EINTR) continue;
            detail::throw_system_error(options.path, "cannot read", errno);
        }
        if (n == 0) break;
        filled += static_cast<std::size_t>(n);
        const std::size_t capacity = readable + simdjson::SIMDJSON_PADDING;
        std::size_t start = 0;
        while (const auto* newline =
                   static_cast<const char*>(std::memchr(buffer.get() + start, '\n', filled - start))) {
            const auto length = static_cast<std::size_t>(newline - (buffer.get() + start));
            scanner.whole_line({{buffer.get() + start, length}, capacity - start}, offset + start);
            start += length + 1;
        }
        std::memmove(buffer.get(), buffer.get() + start, filled - start);
        filled -= start;
        offset += start;
    }
    const auto keep = scanner.finish({buffer.get(), filled}, offset);
    if (state.repaired_torn_line && ::ftruncate(file.fd(), static_cast<off_t>(keep)) != 0)
        detail::throw_system_error(options.path, "cannot cut off the torn last line", errno);
    return state;
}

}   // namespace invent_dispatch
